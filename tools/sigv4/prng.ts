// A small seeded PRNG (sfc32, seeded through splitmix32) for reproducible
// generated and fuzzed requests. Not for cryptography.
//
// The seed is a 32-bit unsigned integer. Tests take it from the SIGV4_SEED
// environment variable when set, otherwise pick one, and print it on failure
// so that `SIGV4_SEED=<seed> npm test` replays the same run.

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** SIGV4_SEED from the environment (decimal or 0x-hex), else a fresh random seed. */
export function seedFromEnv(env: Record<string, string | undefined>, fresh: () => number): number {
  const text = env.SIGV4_SEED;
  if (text === undefined || text === '') return fresh() >>> 0;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`SIGV4_SEED must be an integer in [0, 2^32), got ${JSON.stringify(text)}`);
  return value;
}
