// Helpers for the end-to-end update tests on the virtual device: jobs run
// through the dev cloud, security events read from what the broker received.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Scenario } from '../../tools/vdevice/scenario.js';

export const TERMINAL_JOB_STATUSES = ['SUCCEEDED', 'FAILED', 'REJECTED'];

export interface JobResult {
  id: string;
  status: string;
  statusDetails: Record<string, string>;
}

/** Every record the device sent on its security stream, in order. */
export function securityEvents(s: Scenario): Array<Record<string, unknown>> {
  return s.cloud
    .messages()
    .filter((m) => m.topic === `dt/${s.thingName}/security`)
    .flatMap((m) => {
      try {
        const p = JSON.parse(m.payload) as { records?: Array<{ data?: Record<string, unknown> }> };
        return Array.isArray(p.records) ? p.records.map((r) => r.data ?? {}) : [];
      } catch {
        return [];
      }
    });
}

export function telemetryCount(s: Scenario): number {
  return s.cloud.messages().filter((m) => m.topic === `dt/${s.thingName}/telemetry`).length;
}

let jobCounter = 0;

/** Queues a tuf-update job now (the device picks it up at its next poll). */
export function createJob(s: Scenario, targets: string[]): string {
  const id = `job-${process.pid}-${++jobCounter}`;
  s.cloud.jobs.create(s.thingName, JSON.stringify({ operation: 'tuf-update', targets }), id);
  return id;
}

/** Resolves with the job's terminal status as the dev cloud has it. */
export async function jobOutcome(s: Scenario, id: string, timeoutMs: number): Promise<JobResult> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = s.cloud.jobs.get(s.thingName, id)!;
    if (TERMINAL_JOB_STATUSES.includes(e.status)) return { id, status: e.status, statusDetails: e.statusDetails as Record<string, string> };
    if (Date.now() > until) throw new Error(`job ${id} still ${e.status} after ${timeoutMs} ms; logs: ${s.logs.slice(-12).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runJob(s: Scenario, targets: string[], timeoutMs = 30_000): Promise<JobResult> {
  return jobOutcome(s, createJob(s, targets), timeoutMs);
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The real firmware bundle with a first line that prints `marker`: "another firmware" (a test fixture). */
export function markedFirmware(s: Scenario, marker: string): Uint8Array {
  return new Uint8Array(Buffer.from(`print(${JSON.stringify(marker)});\n${readFileSync(s.bundle, 'utf8')}`, 'utf8'));
}

/** How often the image printing `marker` started. */
export function markerRuns(s: Scenario, marker: string): number {
  return s.logs.filter((l) => l === `[print] ${marker}`).length;
}

export const firmwareCustom = (securityVersion: number, extra: Record<string, unknown> = {}) => ({
  kind: 'firmware',
  channel: 'prod',
  hardwareModel: 'vdevice',
  securityVersion,
  ...extra,
});

export const configCustom = (securityVersion: number, extra: Record<string, unknown> = {}) => ({
  kind: 'config',
  channel: 'prod',
  hardwareModel: 'vdevice',
  securityVersion,
  ...extra,
});

export interface UpdateHealthView {
  state?: string;
  slot?: number | null;
  trial?: boolean;
  firmwareSecurityVersion?: number | null;
  configSecurityVersion?: number | null;
  refused?: number;
  lastCode?: string | null;
}

/** The `update` part of the device's status (null before the first report of a boot). */
export function updateHealth(s: Scenario): UpdateHealthView | null {
  return ((s.status as { update?: UpdateHealthView }).update ?? null) as UpdateHealthView | null;
}

export interface UpdateScenarioOptions {
  thingName: string;
  sampleIntervalMs?: number;
  selfTestTimeoutMs?: number;
  fetchDeadlineMs?: number;
}

/** One virtual device with updates on (hardware vdevice, channel prod, jobs polled every 500 ms, the dev cloud's root trusted), ready. */
export async function startUpdateScenario(o: UpdateScenarioOptions): Promise<Scenario> {
  const s = await Scenario.start({
    transport: 'https',
    thingName: o.thingName,
    sampleIntervalMs: o.sampleIntervalMs,
    extraConfig: (e) => ({
      update: {
        hardwareModel: 'vdevice',
        channel: 'prod',
        jobsIntervalMs: 500,
        checkIntervalMs: 3_600_000,
        rootJson: readFileSync(e.tufRootFile, 'utf8'),
        fetchDeadlineMs: o.fetchDeadlineMs ?? 5000,
        ...(o.selfTestTimeoutMs === undefined ? {} : { selfTestTimeoutMs: o.selfTestTimeoutMs }),
      },
    }),
  });
  await s.waitReady(60_000);
  return s;
}
