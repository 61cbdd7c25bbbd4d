// Bench section "agent": the whole firmware on the virtual device (XS engine)
// against the local dev cloud on loopback.
//   records_per_s_https / _mqtt  a backlog of BURST records (a device back
//                                online) drained through each transport:
//                                signed on XS, verified by aws-crt, acked
//   computrons_per_record        XS work per delivered record (HTTPS), all
//                                of it: queue, batching, signing, TLS glue
//   agent_module_bytes           size of the firmware bundle (agent, core,
//                                @noble/hashes, XS port adapters), unminified
//   agent_heap_slots/_bytes      XS heap slots in use after gc in steady
//                                state; bytes at 16 bytes/slot (32-bit MCU)
//   agent_heap_*_moddable        the same agent built with the Moddable SDK
//                                (mcconfig -i) in the lin simulator, HTTPS:
//                                the SDK's Instrumentation, largest sample of
//                                slots in use (garbage included), chunk bytes
//                                (64-bit: an upper bound for a 32-bit board)
//                                and stack peak; null without $MODDABLE
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Scenario } from '../vdevice/scenario.js';
import { findSdk, hasCommand } from '../moddable/sdk.js';
import { memoryFigures, runSimAgent } from '../moddable/sim-agent.js';

const BURST = 600;
const DRAIN_TIMEOUT_MS = 120_000;
/** XS slot size on 32-bit targets (ESP32, Pico). */
const MCU_SLOT_BYTES = 16;
/** XS slot size in the lin simulator (64-bit). */
const SIM_SLOT_BYTES = 32;
/** Messages the instrumented simulator run delivers (about one status sample per second). */
const MODDABLE_MESSAGES = 15;
const MODDABLE_RUN_TIMEOUT_MS = 180_000;

interface ModdableMemory {
  slots: number | null;
  chunkBytes64: number | null;
  stackPeakSlots: number | null;
  why: string | null;
}

/** The agent in the Moddable simulator with instrumentation; nulls and the reason without an SDK. */
async function moddableMemory(): Promise<ModdableMemory> {
  const sdk = findSdk();
  const why = typeof sdk === 'string' ? sdk : !hasCommand('xvfb-run') ? 'xvfb-run is not installed' : null;
  if (why !== null) return { slots: null, chunkBytes64: null, stackPeakSlots: null, why };
  const r = await runSimAgent({ project: resolve('.'), outputDir: join(tmpdir(), 'aws-device-agent-mcconfig-bench'), wantMessages: MODDABLE_MESSAGES, timeoutMs: MODDABLE_RUN_TIMEOUT_MS, instrument: true });
  const m = memoryFigures(r.simulatorOutput);
  if (!r.ok || m === null) return { slots: null, chunkBytes64: null, stackPeakSlots: null, why: `simulator run failed: ${r.verdict.slice(0, 200)}` };
  return { slots: Math.round(m.slotBytes / SIM_SLOT_BYTES), chunkBytes64: m.chunkBytes, stackPeakSlots: Math.round(m.stackPeakBytes / SIM_SLOT_BYTES), why: null };
}

async function runTransport(transport: 'https' | 'mqtt'): Promise<{ recordsPerS: number; computronsPerRecord: number; heapSlots: number | null }> {
  const s = await Scenario.start({ transport, thingName: 'bench-device' });
  try {
    await s.waitReady();
    const c0 = s.device.computrons;
    const t0 = performance.now();
    await s.burst(BURST);
    await s.waitFor((h) => Number(h.acked) >= BURST && h.queueDepth === 0, DRAIN_TIMEOUT_MS, `${BURST} acks`);
    const elapsedMs = performance.now() - t0;
    // Includes the status reports the wait asks for (one per poll): small next to the signing work.
    const computrons = s.device.computrons - c0;
    await s.device.control({ command: 'gc' });
    if (s.cloud.counters().gatewayRejected !== 0) throw new Error('the gateway rejected requests during the bench');
    return { recordsPerS: (BURST * 1000) / elapsedMs, computronsPerRecord: computrons / BURST, heapSlots: s.device.heapSlots };
  } finally {
    await s.stop();
  }
}

export async function run(): Promise<Record<string, number | string | boolean | null>> {
  const https = await runTransport('https');
  const mqtt = await runTransport('mqtt');
  const moduleBytes = statSync(resolve('build', 'xs', 'vdevice.js')).size;
  const moddable = await moddableMemory();
  const rows = [
    ['records/s over HTTPS publish (backlog of 600)', https.recordsPerS.toFixed(0)],
    ['records/s over MQTT/WebSocket (backlog of 600)', mqtt.recordsPerS.toFixed(0)],
    ['computrons per delivered record (HTTPS)', https.computronsPerRecord.toFixed(0)],
    ['computrons per delivered record (MQTT)', mqtt.computronsPerRecord.toFixed(0)],
    ['firmware bundle bytes (unminified)', String(moduleBytes)],
    ['XS heap slots after gc, steady state', String(https.heapSlots)],
    ['Moddable simulator: slots in use, largest sample', moddable.why ?? String(moddable.slots)],
    ['Moddable simulator: chunk bytes (64-bit), largest', moddable.why ?? String(moddable.chunkBytes64)],
    ['Moddable simulator: stack peak slots', moddable.why ?? String(moddable.stackPeakSlots)],
  ];
  for (const [k, v] of rows) console.error(`${k.padEnd(52)} ${v}`);
  return {
    records_per_s_https: Math.round(https.recordsPerS),
    records_per_s_mqtt: Math.round(mqtt.recordsPerS),
    computrons_per_record: Math.round(https.computronsPerRecord),
    computrons_per_record_mqtt: Math.round(mqtt.computronsPerRecord),
    agent_module_bytes: moduleBytes,
    agent_heap_slots: https.heapSlots,
    agent_heap_bytes: https.heapSlots === null ? null : https.heapSlots * MCU_SLOT_BYTES,
    agent_heap_slots_moddable: moddable.slots,
    agent_heap_bytes_moddable: moddable.slots === null ? null : moddable.slots * MCU_SLOT_BYTES,
    agent_chunk_bytes_moddable_64bit: moddable.chunkBytes64,
    agent_stack_peak_slots_moddable: moddable.stackPeakSlots,
  };
}
