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
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VirtualDevice } from '../vdevice/host.js';
import { SntpServer } from '../timeserver/sntp-server.js';
import { startDevCloud } from '../devcloud/devcloud.js';

const BURST = 600;
const READY_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 120_000;
/** XS slot size on 32-bit targets (ESP32, Pico). */
const MCU_SLOT_BYTES = 16;

interface Health {
  timeState?: string;
  credentialsLeftMs?: number | null;
  acked?: number;
  queueDepth?: number;
}

/** Polling period: each poll is a status report inside XS, kept rare so it barely shows in computrons_per_record. */
const POLL_MS = 250;

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function runTransport(transport: 'https' | 'mqtt'): Promise<{ recordsPerS: number; computronsPerRecord: number; heapSlots: number | null }> {
  const repo = resolve('.');
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const cloud = await startDevCloud({ stateDir: join(dir, 'cloud') });
  const ntp = [new SntpServer(), new SntpServer(), new SntpServer()];
  try {
    const servers = [];
    for (const s of ntp) {
      const a = await s.start();
      servers.push(`${a.host}:${a.port}`);
    }
    const device = await cloud.provision('bench-device');
    const e = cloud.endpoints();
    let health: Health = {};
    const bundle = join(repo, 'build', 'xs', 'vdevice.js');
    const vd = new VirtualDevice({
      bundle,
      config: {
        thingName: 'bench-device',
        region: e.region,
        roleAlias: e.roleAlias,
        dataEndpoint: { host: e.host, port: e.gatewayPort },
        credentialsEndpoint: { host: e.host, port: e.credentialsPort },
        timeServers: servers,
        transport,
        sampleIntervalMs: 86_400_000, // no periodic samples: the burst is the workload
        healthIntervalMs: 0,
        buildTimeMs: Math.floor(statSync(bundle).mtimeMs),
      },
      tls: { ca: readFileSync(e.caFile, 'utf8'), cert: device.certPem, key: device.keyPem },
      flashFile: join(dir, 'flash.bin'),
      flashBlockSize: 4096,
      flashBlockCount: 64,
      kvFile: join(dir, 'kv.json'),
      onStatus: (s) => {
        health = (s as { health: Health }).health;
      },
    });
    await vd.start();
    await waitFor(() => health.timeState === 'SYNCED' && Number(health.credentialsLeftMs) > 0, READY_TIMEOUT_MS, 'time and credentials');
    const c0 = vd.computrons;
    const t0 = performance.now();
    await vd.control({ command: 'burst', count: BURST });
    await waitFor(
      () => {
        void vd.control({ command: 'report' });
        return Number(health.acked) >= BURST && health.queueDepth === 0;
      },
      DRAIN_TIMEOUT_MS,
      `${BURST} acks`,
    );
    const elapsedMs = performance.now() - t0;
    const computrons = vd.computrons - c0;
    await vd.control({ command: 'gc' });
    const heapSlots = vd.heapSlots;
    if (vd.error) throw vd.error;
    await vd.stop();
    if (cloud.counters().gatewayRejected !== 0) throw new Error('the gateway rejected requests during the bench');
    return { recordsPerS: (BURST * 1000) / elapsedMs, computronsPerRecord: computrons / BURST, heapSlots };
  } finally {
    await cloud.stop();
    for (const s of ntp) await s.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
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
