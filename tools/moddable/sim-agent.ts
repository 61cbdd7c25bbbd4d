// End to end on the Linux simulator: the real agent firmware (mcconfig build
// of manifest.json, Moddable adapters, Moddable TLS) against the dev cloud
// (tools/devcloud) and three local SNTP servers, all on loopback. Provisions
// a thing, converts its PEM certificate and key to the DER resources the
// firmware embeds, builds with the endpoints as mc/config overrides, and runs
// the simulator until the dev cloud has received `wantMessages` telemetry
// messages from the thing, or the time is up.
//
// Server verification is always on: the dev cloud serves root -> intermediate
// -> leaf with key identifiers, which the SDK's chain check accepts.
//
//   [TLS_TRACE=1] node dist/tools/moddable/sim-agent.js [--messages N] [--timeout-s S]
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDevCloud } from '../devcloud/devcloud.js';
import { SntpServer } from '../timeserver/sntp-server.js';
import { buildFirmware, findSdk, runSimulator } from './sdk.js';
import { writeBoardProvisioning } from './provision.js';

export interface SimAgentResult {
  ok: boolean;
  /** Why the run ended: the delivered count, a build failure, or a timeout. */
  verdict: string;
  messages: number;
  simulatorOutput: string;
}

/** Sample interval of the firmware in this run: short, so a run takes seconds. */
export const SIM_SAMPLE_INTERVAL_MS = 1000;
const THING = 'moddable-sim-1';
const TIME_SERVERS = 3;

export interface SimAgentOptions {
  project: string;
  outputDir: string;
  wantMessages: number;
  timeoutMs: number;
  traceTls?: boolean;
  /** mc/config `transport` (default https). */
  transport?: 'https' | 'mqtt';
}

export async function runSimAgent(options: SimAgentOptions): Promise<SimAgentResult> {
  const sdk = findSdk();
  if (typeof sdk === 'string') return { ok: false, verdict: sdk, messages: 0, simulatorOutput: '' };
  const work = mkdtempSync(join(tmpdir(), 'moddable-sim-agent-'));
  const ntp: SntpServer[] = [];
  const cloud = await startDevCloud({ stateDir: join(work, 'devcloud'), hostnames: ['localhost'], keyType: 'rsa' });
  try {
    const device = await cloud.provision(THING, 'localhost');
    const e = cloud.endpoints();
    const servers: string[] = [];
    for (let i = 0; i < TIME_SERVERS; i++) {
      const s = new SntpServer();
      const a = await s.start();
      ntp.push(s);
      servers.push(`${a.host}:${a.port}`);
    }
    // Provisioning resources, DER, as the firmware expects (boards/common/manifest.json names); the dev cloud's root is the anchor.
    const provisioning = join(work, 'provisioning');
    writeBoardProvisioning(provisioning, { certificate: device.certPem, privateKey: device.keyPem, trustAnchors: [readFileSync(e.caFile, 'utf8')] });
    mkdirSync(options.outputDir, { recursive: true });
    const build = await buildFirmware({
      sdk,
      project: options.project,
      platform: 'lin',
      outputDir: options.outputDir,
      env: { PROVISIONING: provisioning },
      config: {
        awsRegion: e.region,
        roleAlias: e.roleAlias,
        thingName: THING,
        iotEndpoint: `localhost:${e.gatewayPort}`,
        credentialsEndpoint: `localhost:${e.credentialsPort}`,
        timeServers: servers.join(','),
        buildTimeMs: String(Date.now()),
        sampleIntervalMs: String(SIM_SAMPLE_INTERVAL_MS),
        statusIntervalMs: '5000',
        transport: options.transport ?? 'https',
        ...(options.traceTls ? { tlsTrace: '1' } : {}),
      },
    });
    if (!build.ok || !build.simulatorLibrary) return { ok: false, verdict: `build failed:\n${build.output.slice(-3000)}`, messages: 0, simulatorOutput: '' };
    const count = (): number => cloud.messages().filter((m) => m.payload.includes(THING)).length;
    const run = await runSimulator(sdk, build.simulatorLibrary, /XS abort|agent: not started.*\n/, options.timeoutMs, () =>
      count() >= options.wantMessages ? `delivered ${count()} messages` : null,
    );
    const messages = count();
    const counters = `dev cloud counters: ${JSON.stringify(cloud.counters())}\n`;
    return { ok: messages >= options.wantMessages, verdict: run.verdict ?? 'timed out', messages, simulatorOutput: run.output + counters };
  } finally {
    for (const s of ntp) await s.close();
    await cloud.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  let wantMessages = 3;
  let timeoutS = 120;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--messages') wantMessages = Number(argv[++i]);
    else if (argv[i] === '--timeout-s') timeoutS = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  const r = await runSimAgent({
    project: resolve('.'),
    outputDir: join(tmpdir(), 'aws-device-agent-mcconfig'),
    wantMessages,
    timeoutMs: timeoutS * 1000,
    traceTls: process.env.TLS_TRACE === '1',
  });
  process.stderr.write(r.simulatorOutput);
  console.log(JSON.stringify({ ok: r.ok, verdict: r.verdict, messages: r.messages }));
  return r.ok ? 0 : 1;
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
