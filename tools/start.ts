// `npm start`: the agent on a virtual device against a local cloud.
//
// Starts, on loopback: the dev cloud (TLS gateway verifying every signature
// with aws-crt, mutual-TLS credentials provider, MQTT broker) and SNTP
// servers; provisions a device; then runs the firmware bundle
// (build/xs/vdevice.js) inside the XS engine with real I/O, and shows a live
// status line. Options point it at real endpoints instead (see HELP).
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join, resolve } from 'node:path';
import { VirtualDevice } from './vdevice/host.js';
import { deliveries } from './vdevice/deliveries.js';
import { SntpServer } from './timeserver/sntp-server.js';
import type { DevCloud } from './devcloud/devcloud.js';
import { DEFAULT_MIN_SOURCES } from '../src/time/index.js';

interface StartOptions {
  durationS: number | null;
  json: boolean;
  transport: 'https' | 'mqtt';
  restartCloudAtS: number | null;
  timeServerCount: number;
  liars: number;
  /** null: the agent config's default (DEFAULT_MIN_SOURCES). */
  minSources: number | null;
  thing: string;
  fresh: boolean;
  endpoint: string | null;
  credentialsEndpoint: string | null;
  roleAlias: string | null;
  region: string;
  ca: string | null;
  cert: string | null;
  key: string | null;
  timeServers: string[];
  sampleIntervalMs: number;
}

/** Everything the firmware reports through the `status` op (src/agent.ts AgentStatus). */
type Status = Record<string, unknown> & {
  generated?: number;
  health?: Record<string, unknown> & { heldBack?: Record<string, number> };
};

const STATUS_INTERVAL_MS = 1000;
/** Sample interval in the virtual device: fast, to show traffic within a short run. */
const DEFAULT_SAMPLE_INTERVAL_MS = 500;
const DRAIN_GRACE_MS = 5000;
const LIAR_OFFSET_MS = 600_000;

export const HELP = `usage: npm start -- [options]        (or: node dist/tools/start.js [options])

Runs the firmware on a virtual device (XS engine) against a local dev cloud and
local SNTP servers, all on loopback, and shows a status line. Ctrl-C (SIGINT)
or SIGTERM stops it cleanly: the queue drains, the summary is printed, exit 0.

  --duration S            stop after S seconds (default: run until Ctrl-C)
  --json                  print only the summary, as one JSON object
  --transport https|mqtt  how data is uploaded (default https)
  --sample-ms MS          sample interval in the device (default ${DEFAULT_SAMPLE_INTERVAL_MS})
  --thing NAME            thing name (default vdevice-1)
  --keep-state            keep the device's flash and settings from the last run
  --min-sources N         agreeing time sources the device needs (default ${DEFAULT_MIN_SOURCES})
  --time-servers N        local SNTP servers to start, 1..8 (default 3; at least --min-sources)
  --liars N               how many of them are 10 minutes fast (default 0)
  --restart-cloud-at S    stop the dev cloud at S seconds for 3 s (simulated outage)

Real endpoints instead of the dev cloud (all of these together):
  --endpoint HOST:PORT               data endpoint
  --credentials-endpoint HOST:PORT   credentials provider endpoint
  --role-alias A                     IoT role alias
  --region R                         AWS region (default us-east-1)
  --ca FILE  --cert FILE  --key FILE TLS material (PEM files)
  --time-server IP[:PORT]            an NTP server (IPv4 literal); repeat it, at least --min-sources times

  -h, --help              this text

Exit codes: 0 done (also after Ctrl-C), 1 the firmware raised an error,
2 bad options or the run could not start, 130 a second Ctrl-C (no cleanup).`;

/** The options, or 'help' for -h/--help. Throws a one-line Error on a bad option. */
export function parseArgs(argv: string[]): StartOptions | 'help' {
  const o: StartOptions = {
    durationS: null,
    json: false,
    transport: 'https',
    restartCloudAtS: null,
    timeServerCount: 3,
    liars: 0,
    minSources: null,
    thing: 'vdevice-1',
    fresh: true,
    endpoint: null,
    credentialsEndpoint: null,
    roleAlias: null,
    region: 'us-east-1',
    ca: null,
    cert: null,
    key: null,
    timeServers: [],
    sampleIntervalMs: DEFAULT_SAMPLE_INTERVAL_MS,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    switch (a) {
      case '--duration': o.durationS = Number(v()); break;
      case '--json': o.json = true; break;
      case '--transport': {
        const t = v();
        if (t !== 'https' && t !== 'mqtt') throw new Error('--transport is https or mqtt');
        o.transport = t;
        break;
      }
      case '--restart-cloud-at': o.restartCloudAtS = Number(v()); break;
      case '--time-servers': o.timeServerCount = Number(v()); break;
      case '--liars': o.liars = Number(v()); break;
      case '--min-sources': o.minSources = Number(v()); break;
      case '--thing': o.thing = v(); break;
      case '--keep-state': o.fresh = false; break;
      case '--endpoint': o.endpoint = v(); break;
      case '--credentials-endpoint': o.credentialsEndpoint = v(); break;
      case '--role-alias': o.roleAlias = v(); break;
      case '--region': o.region = v(); break;
      case '--ca': o.ca = v(); break;
      case '--cert': o.cert = v(); break;
      case '--key': o.key = v(); break;
      case '--time-server': o.timeServers.push(v()); break;
      case '--sample-ms': o.sampleIntervalMs = Number(v()); break;
      case '--help':
      case '-h':
        return 'help';
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  if (o.durationS !== null && !(o.durationS > 0)) throw new Error('--duration must be a positive number of seconds');
  if (!(o.sampleIntervalMs >= 10)) throw new Error('--sample-ms must be at least 10');
  if (!(Number.isInteger(o.timeServerCount) && o.timeServerCount >= 1 && o.timeServerCount <= 8)) throw new Error('--time-servers must be 1..8');
  if (!(Number.isInteger(o.liars) && o.liars >= 0 && o.liars <= o.timeServerCount)) throw new Error('--liars must be 0..--time-servers');
  if (o.minSources !== null && !(Number.isInteger(o.minSources) && o.minSources >= 1 && o.minSources <= 8)) throw new Error('--min-sources must be 1..8');
  const need = o.minSources ?? DEFAULT_MIN_SOURCES;
  // The clock trusts a majority of at least `need` agreeing servers: with fewer servers it can never sync.
  if (o.endpoint === null) {
    if (o.timeServers.length) throw new Error('--time-server is for real endpoints (with --endpoint); the local run starts its own: use --time-servers N');
    if (o.timeServerCount < need) {
      throw new Error(`--time-servers ${o.timeServerCount} is fewer than the ${need} agreeing sources the device needs (min sources): the clock could never sync; start at least ${need} (or lower --min-sources)`);
    }
  } else {
    if (!o.credentialsEndpoint || !o.roleAlias || !o.ca || !o.cert || !o.key || o.timeServers.length === 0) {
      throw new Error(`with --endpoint, also give --credentials-endpoint, --role-alias, --ca, --cert, --key and --time-server (at least ${need})`);
    }
    if (o.timeServers.length < need) {
      throw new Error(`${o.timeServers.length} --time-server given, fewer than the ${need} agreeing sources the device needs (min sources): the clock could never sync; give at least ${need} (or lower --min-sources)`);
    }
    for (const t of o.timeServers) {
      const [ip, port, extra] = t.split(':');
      const portOk = port === undefined || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
      // The device matches replies by address and resolves no names.
      if (!isIPv4(ip ?? '') || !portOk || extra !== undefined) throw new Error(`--time-server must be an IPv4 address, optionally :PORT, got ${t}`);
    }
    hostPort(o.endpoint, '--endpoint');
    hostPort(o.credentialsEndpoint, '--credentials-endpoint');
  }
  return o;
}

/** Reads a file named by a flag; a failure names the flag and the path. */
function readFlagFile(flag: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new Error(`${flag} ${path}: cannot read (${why})`);
  }
  if (text.trim() === '') throw new Error(`${flag} ${path}: the file is empty`);
  return text;
}

function hostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  if (!m) throw new Error(`${what} must be HOST:PORT, got ${text}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** How to publish a config update to the local device through the dev cloud's admin API (printed at start). */
export function updateHowTo(adminUrl: string, thing: string): string {
  const target = 'config/prod/vdevice/agent.json';
  const custom = JSON.stringify({ kind: 'config', channel: 'prod', hardwareModel: 'vdevice', securityVersion: 1 });
  return [
    'updates: publish a signed config bundle (raise securityVersion each time), then ask the device through a job:',
    `  curl -s ${adminUrl}/tuf/targets -d '{"name":"${target}","content":"'$(printf '{"sampleIntervalMs":5000}' | base64 -w0)'","custom":${custom}}'`,
    `  curl -s ${adminUrl}/jobs -d '{"thing":"${thing}","document":{"operation":"tuf-update","targets":["${target}"]}}'`,
    `  curl -s "${adminUrl}/jobs/execution?thing=${thing}&jobId=<jobId from the answer>"   # SUCCEEDED, or REJECTED/FAILED with statusDetails.code`,
  ].join('\n');
}

/** The live status line. An unknown bound (untrusted clock: the firmware sends null) is ±∞. */
export function statusLine(s: Status): string {
  const h = s.health ?? {};
  const held = Object.entries(h.heldBack ?? {})
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}:${n}`)
    .join(',');
  const bound = typeof h.timeBoundMs === 'number' ? h.timeBoundMs : NaN;
  const left = h.credentialsLeftMs === null || h.credentialsLeftMs === undefined ? '-' : `${Math.round(Number(h.credentialsLeftMs) / 1000)}s`;
  return `time ${h.timeState ?? '?'} ±${Number.isFinite(bound) ? `${Math.round(bound)}ms` : '∞'} | creds ${left} | queue ${h.queueDepth ?? 0} | gen ${s.generated ?? 0} sent ${h.sent ?? 0} acked ${h.acked ?? 0} | held ${held || '-'}`;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed === 'help') {
    console.log(HELP);
    return 0;
  }
  const o = parsed;
  // Read before anything starts: a bad file is a usage error, not a half-started run.
  const files = o.endpoint === null ? null : { ca: readFlagFile('--ca', o.ca!), cert: readFlagFile('--cert', o.cert!), key: readFlagFile('--key', o.key!) };
  const repo = resolve('.');
  const bundle = join(repo, 'build', 'xs', 'vdevice.js');
  if (!existsSync(bundle)) throw new Error(`${bundle} missing: run \`npm run build\``);
  const runDir = join(repo, '.devcloud', 'vdevice', o.thing);
  if (o.fresh) rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const say = (line: string) => {
    if (!o.json) console.log(line);
  };

  // Ctrl-C / SIGTERM end the run the same way the duration does (drain, stop, summary).
  // Installed before anything starts, so a signal during start-up stops the run once it is up.
  let stoppedBy: string | null = null;
  let signalled = false;
  let endRun: (() => void) | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`\n[start] second ${signal}: exiting without cleanup\n`);
      process.exit(130);
    }
    signalled = true;
    stoppedBy ??= signal;
    say(`\n[start] ${signal}: stopping (again to exit at once)`);
    endRun?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const local = o.endpoint === null;
  let cloud: DevCloud | null = null;
  const ntp: SntpServer[] = [];
  let config: Record<string, unknown>;
  let tls: { ca: string; cert?: string; key?: string };
  if (local) {
    // Loaded only for a local run: it pulls in aws-crt, which is slow to load and chatty on stderr.
    const { startDevCloud } = await import('./devcloud/devcloud.js');
    const stateDir = join(repo, '.devcloud');
    try {
      cloud = await startDevCloud({ stateDir, adminPort: 0 });
    } catch (e) {
      // npm start's own dev cloud state (CA, device certificates, the virtual
      // device's flash) is regenerable: from an older dev cloud it is rebuilt,
      // and said so. (`devcloud --state DIR` run by hand refuses instead.)
      if ((e as { code?: unknown }).code !== 'STALE_STATE') throw e;
      console.error(`[start] ${stateDir} is from an older dev cloud (no intermediate CA): recreating it; devices are provisioned again`);
      rmSync(stateDir, { recursive: true, force: true });
      mkdirSync(runDir, { recursive: true });
      cloud = await startDevCloud({ stateDir, adminPort: 0 });
    }
    const device = await cloud.provision(o.thing);
    const e = cloud.endpoints();
    const servers: string[] = [];
    for (let i = 0; i < o.timeServerCount; i++) {
      // The last `liars` servers are 10 minutes fast: enough to break SigV4 (5 min window).
      const s = new SntpServer({ offsetMs: i >= o.timeServerCount - o.liars ? LIAR_OFFSET_MS : 0 });
      const a = await s.start();
      ntp.push(s);
      servers.push(`${a.host}:${a.port}`);
    }
    tls = { ca: readFileSync(e.caFile, 'utf8'), cert: device.certPem, key: device.keyPem };
    config = {
      thingName: o.thing,
      region: e.region,
      roleAlias: e.roleAlias,
      dataEndpoint: { host: e.host, port: e.gatewayPort },
      credentialsEndpoint: { host: e.host, port: e.credentialsPort },
      timeServers: servers,
      transport: o.transport,
      sampleIntervalMs: o.sampleIntervalMs,
      // Signed updates from the dev cloud's TUF repository and IoT Jobs (its root as provisioning would write it).
      update: { hardwareModel: 'vdevice', channel: 'prod', jobsIntervalMs: 10_000, rootJson: readFileSync(e.tufRootFile, 'utf8') },
    };
    say(`dev cloud: gateway ${e.gatewayUrl}, credentials ${e.credentialsUrl}, broker ${e.brokerUrl}, admin ${e.adminUrl}`);
    say(updateHowTo(e.adminUrl!, o.thing));
    say(`time servers: ${servers.join(' ')}${o.liars ? ` (the last ${o.liars} lie by +${LIAR_OFFSET_MS / 1000} s)` : ''}`);
  } else {
    tls = files!;
    config = {
      thingName: o.thing,
      region: o.region,
      roleAlias: o.roleAlias,
      dataEndpoint: hostPort(o.endpoint!, '--endpoint'),
      credentialsEndpoint: hostPort(o.credentialsEndpoint!, '--credentials-endpoint'),
      timeServers: o.timeServers,
      transport: o.transport,
      sampleIntervalMs: o.sampleIntervalMs,
    };
  }
  if (o.minSources !== null) config.minSources = o.minSources;
  // The firmware's trusted time floor starts at its build time, as on a board.
  config.buildTimeMs = Math.floor(statSync(bundle).mtimeMs);

  let last: Status = {};
  const logs: string[] = [];
  const device = new VirtualDevice({
    bundle,
    config,
    tls,
    flashFile: join(runDir, 'flash.bin'),
    firmwareFile: join(runDir, 'firmware.bin'),
    flashBlockSize: 4096,
    flashBlockCount: 64,
    kvFile: join(runDir, 'settings.json'),
    tickStart: 2 ** 32 - 20_000, // cross the 32-bit tick wrap 20 s into every run
    onLog: (line) => {
      logs.push(line);
      if (!o.json) process.stdout.write(`${process.stdout.isTTY ? '\r\x1b[K' : ''}[device] ${line}\n`);
    },
    onStatus: (s) => {
      last = s as Status;
    },
  });
  const started = Date.now();
  await device.start();
  const ticker = setInterval(() => {
    if (!o.json && process.stdout.isTTY) process.stdout.write(`\r\x1b[K${statusLine(last)}`);
    else if (!o.json) console.log(statusLine(last));
  }, STATUS_INTERVAL_MS);

  let restarted = false;
  const restartTimer =
    cloud && o.restartCloudAtS !== null
      ? setTimeout(() => {
          say('\n[start] stopping the dev cloud (simulated outage) for 3 s');
          void cloud!
            .pause('refuse')
            .then(() => new Promise((r) => setTimeout(r, 3000)))
            .then(() => cloud!.restart())
            .then(() => {
              restarted = true;
              say('[start] dev cloud restarted');
            });
        }, o.restartCloudAtS * 1000)
      : null;

  // On stderr so it does not mix with --json's single stdout line.
  process.stderr.write(`[start] running${o.durationS !== null ? ` for ${o.durationS} s` : ''}; Ctrl-C stops and prints the summary\n`);
  let durationTimer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolveRun) => {
    endRun = resolveRun;
    if (stoppedBy !== null) resolveRun();
    if (o.durationS !== null)
      durationTimer = setTimeout(() => {
        stoppedBy ??= 'duration';
        resolveRun();
      }, o.durationS * 1000);
  });
  clearTimeout(durationTimer);
  clearInterval(ticker);
  if (restartTimer) clearTimeout(restartTimer);
  // Stop sampling, give the uploader a moment to drain what is queued, then report.
  await device.control({ command: 'stop-sampling' });
  const drainUntil = Date.now() + DRAIN_GRACE_MS;
  await device.control({ command: 'report' });
  while (Date.now() < drainUntil && Number(last.health?.queueDepth ?? 0) > 0) {
    await new Promise((r) => setTimeout(r, 200));
    await device.control({ command: 'report' });
  }
  await device.stop();

  const h = last.health ?? {};
  const delivered = cloud ? deliveries(cloud.messages(), o.thing) : null;
  const counters = cloud ? cloud.counters() : null;
  const summary = {
    durationS: Math.round((Date.now() - started) / 1000),
    transport: o.transport,
    generated: Number(last.generated ?? 0),
    acked: Number(h.acked ?? 0),
    pending: Number(h.queueDepth ?? 0),
    dropped: Number(h.dropped ?? 0),
    deadLettered: Number(h.deadLettered ?? 0),
    retried: Number(h.retried ?? 0),
    heldBack: Object.fromEntries(Object.entries(h.heldBack ?? {}).filter(([, n]) => n > 0)),
    gatewayRejected: counters ? counters.gatewayRejected : null,
    injectedFaults: counters ? counters.injectedFaults : null,
    deliveredUnique: delivered ? delivered.size : null,
    deliveredTotal: delivered ? [...delivered.values()].reduce((a, n) => a + n, 0) : null,
    cloudRestarted: restarted,
    timeState: h.timeState ?? null,
    firmwareError: device.error ? device.error.message : null,
    stoppedBy,
  };
  if (cloud) await cloud.stop();
  for (const s of ntp) await s.close();
  if (o.json) console.log(JSON.stringify(summary));
  else console.log(`\n${JSON.stringify(summary, null, 2)}`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return summary.firmwareError ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(e.message);
      process.exit(2);
    },
  );
}
