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
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDevCloud } from '../devcloud/devcloud.js';
import { SntpServer } from '../timeserver/sntp-server.js';
import { LIBFAKETIME, buildFirmware, findSdk, runSimulator } from './sdk.js';
import { writeBoardProvisioning } from './provision.js';

export interface SimAgentResult {
  ok: boolean;
  /** Why the run ended: the delivered count, a build failure, or a timeout. */
  verdict: string;
  messages: number;
  simulatorOutput: string;
  /** Credentials the dev cloud handed out (each needs a completed mutual-TLS handshake). */
  credentialsIssued: number;
  /** With `credentialsChain`: handshakes the firmware completed with that server (it accepted the chain). */
  chainServerHandshakes: number;
  /** With `captureRandomness`: SNTP transmit timestamps sent to the first server, hex, in order. */
  sntpNonces: string[];
  /** With `captureRandomness`: ClientHello randoms sent to the credentials provider, hex, in order. */
  clientRandoms: string[];
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
  /** Host the firmware is given for both endpoints (default localhost, which the dev cloud's certificate names). */
  endpointHost?: string;
  /** Provision the root of a second, unrelated dev cloud as the only trust anchor (an untrusted chain). */
  foreignTrustAnchor?: boolean;
  /**
   * Point the credentials endpoint at a TLS server of ours that presents, instead of the dev cloud's chain:
   * 'forged-leaf': a self-made leaf for localhost (its own key, not issued by the intermediate) followed by
   * the dev cloud's real intermediate and root; 'leaf-only': the dev cloud's real leaf alone.
   */
  credentialsChain?: 'forged-leaf' | 'leaf-only';
  /**
   * Run the simulator under libfaketime with its wall clock at 1970-01-02: only
   * the firmware setting it (native/sim-clock, through FAKETIME_TIMESTAMP_FILE)
   * brings it to a date at which certificates are valid.
   */
  startAt1970?: boolean;
  /**
   * Record what the firmware draws from its random source, as seen on the wire: the transmit
   * timestamps (nonces) of its SNTP requests to the first time server, and the client random of
   * each TLS ClientHello to the credentials provider (relays in front of both).
   */
  captureRandomness?: boolean;
  /**
   * Measurement build: mcconfig -i of a manifest (under outputDir) that adds the SDK's Instrumentation
   * to the firmware; the agent then traces `memory:` with each status line.
   */
  instrument?: boolean;
}

export interface MemoryFigures {
  /** Largest sampled slot heap in use, bytes (XS slots are 16 bytes on 32-bit targets, 32 here on 64-bit). */
  slotBytes: number;
  /** Largest sampled chunk heap in use, bytes. */
  chunkBytes: number;
  /** Peak stack use, bytes (in slots of the host's size). */
  stackPeakBytes: number;
  samples: number;
}

/** Maxima over the firmware's `memory:` lines, or null when there were none. */
export function memoryFigures(output: string): MemoryFigures | null {
  const out: MemoryFigures = { slotBytes: 0, chunkBytes: 0, stackPeakBytes: 0, samples: 0 };
  for (const m of output.matchAll(/^memory: (\{.*\})$/gm)) {
    const v = JSON.parse(m[1]!) as Record<string, number | null>;
    out.slotBytes = Math.max(out.slotBytes, v.slotBytes ?? 0);
    out.chunkBytes = Math.max(out.chunkBytes, v.chunkBytes ?? 0);
    out.stackPeakBytes = Math.max(out.stackPeakBytes, v.stackPeakBytes ?? 0);
    out.samples++;
  }
  return out.samples > 0 ? out : null;
}

/** A UDP relay in front of `port` on loopback: records bytes 40..47 (transmit timestamp) of each request. */
async function startSntpTap(port: number): Promise<{ port: number; nonces: string[]; close(): void }> {
  const nonces: string[] = [];
  const front = createSocket('udp4');
  const upstreams = new Map<string, UdpSocket>();
  front.on('message', (msg, from) => {
    if (msg.length >= 48) nonces.push(msg.subarray(40, 48).toString('hex'));
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (!up) {
      const s = createSocket('udp4');
      s.on('message', (reply) => front.send(reply, from.port, from.address));
      upstreams.set(key, s);
      up = s;
    }
    up.send(msg, port, '127.0.0.1');
  });
  await new Promise<void>((done) => front.bind(0, '127.0.0.1', done));
  return {
    port: front.address().port,
    nonces,
    close: () => {
      front.close();
      for (const s of upstreams.values()) s.close();
    },
  };
}

/** A TCP relay in front of `port` on loopback: records the 32-byte random of each TLS ClientHello (hex). */
async function startHelloTap(port: number): Promise<{ server: TcpServer; port: number; randoms: string[] }> {
  const randoms: string[] = [];
  const server = createTcpServer((client) => {
    let first: Buffer | null = Buffer.alloc(0);
    const up = tcpConnect(port, '127.0.0.1');
    client.on('data', (chunk) => {
      if (first) {
        first = Buffer.concat([first, chunk]);
        // record: type 22 (handshake), version, length; handshake: type 1 (ClientHello), length(3), version(2), random(32)
        if (first.length >= 43) {
          if (first[0] === 22 && first[5] === 1) randoms.push(first.subarray(11, 43).toString('hex'));
          first = null;
        }
      }
      up.write(chunk);
    });
    up.on('data', (chunk) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, randoms };
}

/** Where a startAt1970 run's simulator clock starts. */
export const SIM_START_1970 = '@1970-01-02 00:00:00';

/** A TLS server presenting `chain` (PEM) with `key`; counts handshakes the client completed. */
async function startChainServer(key: string, chain: string): Promise<{ server: TlsServer; port: number; handshakes: () => number }> {
  let handshakes = 0;
  const server = createTlsServer({ key, cert: chain, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }, (socket) => {
    handshakes++;
    socket.on('error', () => {});
    socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  server.on('tlsClientError', (_e, socket) => socket.destroy());
  // close() below must not wait for a connection the simulator left half-open.
  server.on('connection', (socket) => {
    socket.on('error', () => {});
    socket.setTimeout(5000, () => socket.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, handshakes: () => handshakes };
}

/** A self-signed RSA leaf for localhost (subject and authority key identifiers, serverAuth), valid now. */
function forgedLeaf(dir: string): { key: string; cert: string } {
  const key = join(dir, 'forged.key');
  const cert = join(dir, 'forged.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-addext', 'extendedKeyUsage=serverAuth', '-addext', 'basicConstraints=critical,CA:FALSE'], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

export async function runSimAgent(options: SimAgentOptions): Promise<SimAgentResult> {
  const sdk = findSdk();
  if (typeof sdk === 'string') return { ok: false, verdict: sdk, messages: 0, simulatorOutput: '', credentialsIssued: 0, chainServerHandshakes: 0, sntpNonces: [], clientRandoms: [] };
  const work = mkdtempSync(join(tmpdir(), 'moddable-sim-agent-'));
  const ntp: SntpServer[] = [];
  let chainServer: Awaited<ReturnType<typeof startChainServer>> | null = null;
  let sntpTap: Awaited<ReturnType<typeof startSntpTap>> | null = null;
  let helloTap: Awaited<ReturnType<typeof startHelloTap>> | null = null;
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
    let anchor = readFileSync(e.caFile, 'utf8');
    if (options.foreignTrustAnchor) {
      const foreign = await startDevCloud({ stateDir: join(work, 'foreign-devcloud'), hostnames: ['localhost'], keyType: 'rsa' });
      anchor = readFileSync(foreign.endpoints().caFile, 'utf8');
      await foreign.stop();
    }
    writeBoardProvisioning(provisioning, { certificate: device.certPem, privateKey: device.keyPem, trustAnchors: [anchor] });
    const host = options.endpointHost ?? 'localhost';
    let credentialsPort = e.credentialsPort;
    if (options.credentialsChain) {
      const state = join(work, 'devcloud');
      const pem = (name: string): string => readFileSync(join(state, name), 'utf8').trimEnd() + '\n';
      if (options.credentialsChain === 'forged-leaf') {
        const forged = forgedLeaf(work);
        chainServer = await startChainServer(forged.key, forged.cert.trimEnd() + '\n' + pem('intermediate.pem') + pem('ca.pem'));
      } else chainServer = await startChainServer(pem('server.key'), pem('server.pem'));
      credentialsPort = chainServer.port;
    }
    if (options.captureRandomness) {
      const first = servers[0]!.split(':');
      sntpTap = await startSntpTap(Number(first[1]));
      servers[0] = `127.0.0.1:${sntpTap.port}`;
      helloTap = await startHelloTap(credentialsPort);
      credentialsPort = helloTap.port;
    }
    mkdirSync(options.outputDir, { recursive: true });
    let manifest: string | undefined;
    if (options.instrument) {
      // A fixed folder, so that mcconfig's build name (the folder's) and its incremental build stay the same.
      const dir = join(options.outputDir, 'agent-instrumented');
      mkdirSync(dir, { recursive: true });
      manifest = join(dir, 'manifest.json');
      writeFileSync(manifest, JSON.stringify({ include: [join(resolve(options.project), 'manifest.json'), '$(MODULES)/base/instrumentation/manifest.json'] }, null, 2));
    }
    const build = await buildFirmware({
      sdk,
      project: options.project,
      manifest,
      instrument: options.instrument === true,
      platform: 'lin',
      outputDir: options.outputDir,
      env: { PROVISIONING: provisioning },
      config: {
        awsRegion: e.region,
        roleAlias: e.roleAlias,
        thingName: THING,
        iotEndpoint: `${host}:${e.gatewayPort}`,
        credentialsEndpoint: `${host}:${credentialsPort}`,
        timeServers: servers.join(','),
        buildTimeMs: String(Date.now()),
        sampleIntervalMs: String(SIM_SAMPLE_INTERVAL_MS),
        // Instrumented runs sample memory with each status line: every second.
        statusIntervalMs: options.instrument ? '1000' : '5000',
        transport: options.transport ?? 'https',
        ...(options.traceTls ? { tlsTrace: '1' } : {}),
      },
    });
    if (!build.ok || !build.simulatorLibrary) return { ok: false, verdict: `build failed:\n${build.output.slice(-3000)}`, messages: 0, simulatorOutput: '', credentialsIssued: 0, chainServerHandshakes: 0, sntpNonces: [], clientRandoms: [] };
    const count = (): number => cloud.messages().filter((m) => m.payload.includes(THING)).length;
    let simEnv: Record<string, string> | undefined;
    if (options.startAt1970) {
      const clockFile = join(work, 'faketime.rc');
      writeFileSync(clockFile, `${SIM_START_1970}\n`);
      // Only the wall clock is faked (glib's monotonic timers are not), in UTC, re-read on every call.
      simEnv = { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' };
    }
    const run = await runSimulator(
      sdk,
      build.simulatorLibrary,
      /XS abort|agent: not started.*\n/,
      options.timeoutMs,
      () => (count() >= options.wantMessages ? `delivered ${count()} messages` : null),
      simEnv,
    );
    const messages = count();
    const counters = `dev cloud counters: ${JSON.stringify(cloud.counters())}\n`;
    const credentialsIssued = cloud.counters().accepted.credentials;
    return { ok: messages >= options.wantMessages, verdict: run.verdict ?? 'timed out', messages, simulatorOutput: run.output + counters, credentialsIssued, chainServerHandshakes: chainServer?.handshakes() ?? 0, sntpNonces: [...(sntpTap?.nonces ?? [])], clientRandoms: [...(helloTap?.randoms ?? [])] };
  } finally {
    for (const s of ntp) await s.close();
    sntpTap?.close();
    if (helloTap) {
      helloTap.server.close();
      helloTap.server.unref();
    }
    if (chainServer) {
      chainServer.server.close();
      chainServer.server.unref();
    }
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
