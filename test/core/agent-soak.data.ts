// Seeds for the agent soak (test/core/agent-soak.suite.ts): fixed by default so
// that CI is reproducible; SOAK_SEED=<n> replays a reported failure.
export const DEFAULT_SOAK_SEED = 0x50a1c0de;

export function loadData(): unknown {
  const env = process.env.SOAK_SEED;
  const seed = env === undefined || env === '' ? DEFAULT_SOAK_SEED : Number(env);
  if (!Number.isInteger(seed)) throw new Error(`SOAK_SEED must be an integer, got ${env}`);
  return { seed: seed >>> 0 };
}
