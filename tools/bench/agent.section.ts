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
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Scenario } from '../vdevice/scenario.js';

const BURST = 600;
const DRAIN_TIMEOUT_MS = 120_000;
/** XS slot size on 32-bit targets (ESP32, Pico). */
const MCU_SLOT_BYTES = 16;

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
  const rows = [
    ['records/s over HTTPS publish (backlog of 600)', https.recordsPerS.toFixed(0)],
    ['records/s over MQTT/WebSocket (backlog of 600)', mqtt.recordsPerS.toFixed(0)],
    ['computrons per delivered record (HTTPS)', https.computronsPerRecord.toFixed(0)],
    ['computrons per delivered record (MQTT)', mqtt.computronsPerRecord.toFixed(0)],
    ['firmware bundle bytes (unminified)', String(moduleBytes)],
    ['XS heap slots after gc, steady state', String(https.heapSlots)],
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
  };
}
