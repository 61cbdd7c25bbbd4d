// Soak and property tests of the whole agent (src/agent.ts, built from ports
// and config as a board builds it) in a simulated world: SNTP servers, the
// credentials provider, the IoT data endpoint and an MQTT broker on one
// discrete-event clock (test/harness/sim/). Portable: runs on Node and XS.
//
// Soak: >= 30 simulated minutes per transport of every fault the dev cloud
// can inject, cycling, with malformed headers and bodies from every server and
// UDP 123 blocked for minutes; then the faults stop and the agent must drain.
// Property: every server answers garbage at a high rate (headers, bodies,
// datagrams, frames) for several seeds; nothing may escape a port callback and
// the books must balance. A failure names the invariant, the seed and the
// simulated time; replay with SOAK_SEED=<seed>.
import type { Check, PortableSuite } from '../harness/portable.js';
import { SoakWorld, type SoakOptions } from '../harness/sim/soak.js';

/** Simulated minutes of faults per transport (the acceptance asks for at least 30; every phase runs once in 34). */
export const SOAK_FAULT_MINUTES = 34;
export const SOAK_DRAIN_MINUTES = 12;
const PROPERTY_SEEDS = 4;
const PROPERTY_MINUTES = 4;

function runSoak(t: Check, options: SoakOptions): SoakWorld {
  const world = new SoakWorld(options);
  world.run();
  const violations = world.check();
  t.ok(violations.length === 0, `${violations.length} invariant(s) broken (replay: SOAK_SEED=${options.seed}):\n${world.report()}\n${world.summary()}`);
  return world;
}

const suite: PortableSuite = (data) => {
  const seed = ((data as { seed?: number } | null)?.seed ?? 0x50a1c0de) >>> 0;
  return [
    {
      name: 'clean world: the simulated cloud acks everything the agent generates (harness sanity)',
      run(t) {
        const w = runSoak(t, { seed, transport: 'https', faultMinutes: 0, drainMinutes: 5, calmStartMs: 1e12 });
        const st = w.agent.status();
        // 300 samples at 1 s, 5 health records; all but the newest in flight acked.
        t.ok(st.generated >= 295 && st.health.acked >= st.generated, `clean run acked ${st.health.acked} of ${st.generated} samples`);
        t.equal(w.cloud.ledgers.telemetry!.unique + w.cloud.ledgers.security!.unique, st.health.acked, 'every ack is one unique delivery (telemetry, health and security records)');
      },
    },
    {
      name: `soak https: ${SOAK_FAULT_MINUTES} simulated min of cycling faults, then drain`,
      run(t) {
        runSoak(t, { seed, transport: 'https', faultMinutes: SOAK_FAULT_MINUTES, drainMinutes: SOAK_DRAIN_MINUTES });
      },
    },
    {
      name: `soak mqtt: ${SOAK_FAULT_MINUTES} simulated min of cycling faults, then drain`,
      run(t) {
        runSoak(t, { seed: seed ^ 0x3, transport: 'mqtt', faultMinutes: SOAK_FAULT_MINUTES, drainMinutes: SOAK_DRAIN_MINUTES });
      },
    },
    {
      name: `property: random and malformed input to every port callback (${PROPERTY_SEEDS} seeds x 2 transports)`,
      run(t) {
        const failures: string[] = [];
        for (let i = 0; i < PROPERTY_SEEDS; i++) {
          for (const transport of ['https', 'mqtt'] as const) {
            const w = new SoakWorld({ seed: (seed + 101 * (i + 1)) >>> 0, transport, faultMinutes: PROPERTY_MINUTES, drainMinutes: 0, plan: 'chaos' });
            w.run();
            if (w.check().length > 0) failures.push(`${w.report()}\n${w.summary()}`);
          }
        }
        t.ok(failures.length === 0, `${failures.length} of ${2 * PROPERTY_SEEDS} runs broke invariants:\n${failures.join('\n')}`);
      },
    },
  ];
};

export default suite;
