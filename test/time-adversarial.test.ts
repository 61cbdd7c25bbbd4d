// The SNTP client over real UDP sockets against hostile fake servers on
// 127.0.125.N: spoofed originate, replies from another port or address,
// Kiss-o'-Death, LI 3, stratum 0/16, zero timestamps, era-1 timestamps, huge
// root dispersion, truncated, oversized and random packets. Each round mixes
// two honest fake servers with the adversaries: the honest ones must sync the
// clock, no adversary may be accepted, and no exception may escape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { NodeRandom } from '../src/platform/node/random.js';
import { NodeTicks } from '../src/platform/node/ticks.js';
import { NodeTimers } from '../src/platform/node/timers.js';
import { NodeUdp } from '../src/platform/node/udp.js';
import { SecureClock } from '../src/time/secure-clock.js';
import { SntpClient, type ServerOutcome } from '../src/time/sntp-client.js';
import { buildReply, type ReplySpec } from './harness/fakes.js';

const FLOOR_2026 = 1_767_225_600_000;
/** 11 years ahead of now: past the 2036 NTP era rollover. */
const ELEVEN_YEARS_MS = 11 * 365.25 * 86_400_000;

type Send = (bytes: Uint8Array) => void;
interface Ctx {
  request: Uint8Array;
  reply: Send;
  /** Sends from another socket: same address, other port. */
  replyFromOtherPort: Send;
  /** Sends from another loopback address. */
  replyFromOtherAddress: Send;
}
type Behaviour = (ctx: Ctx) => void;

interface Adversary {
  name: string;
  behaviour: Behaviour;
  /** Expected outcome as `verdict:reason`. */
  expect: string;
}

function now(extra: Partial<ReplySpec> = {}): ReplySpec {
  const t = Date.now();
  // Date.now() stamps whole milliseconds: claim the precision that has (2^-9 s,
  // about 2 ms), as an honest server would. Claiming 2^-20 s let two honest
  // servers' intervals miss each other under load (seen in CI as no-majority).
  return { receiveMs: t, transmitMs: t, precision: -9, ...extra };
}

const honest: Behaviour = (c) => c.reply(buildReply(c.request, now()));

const adversaries: Adversary[] = [
  { name: 'spoofed originate', behaviour: (c) => c.reply(buildReply(c.request, now({ origin: randomBytes(8) }))), expect: 'rejected:timeout' },
  { name: 'reply from another port', behaviour: (c) => c.replyFromOtherPort(buildReply(c.request, now())), expect: 'rejected:timeout' },
  { name: 'reply from another address', behaviour: (c) => c.replyFromOtherAddress(buildReply(c.request, now())), expect: 'rejected:timeout' },
  { name: 'KoD RATE', behaviour: (c) => c.reply(buildReply(c.request, now({ stratum: 0, leap: 3, refId: 'RATE' }))), expect: 'rejected:kiss-rate' },
  { name: 'KoD DENY', behaviour: (c) => c.reply(buildReply(c.request, now({ stratum: 0, leap: 3, refId: 'DENY' }))), expect: 'rejected:kiss-deny' },
  { name: 'KoD RSTR', behaviour: (c) => c.reply(buildReply(c.request, now({ stratum: 0, leap: 3, refId: 'RSTR' }))), expect: 'rejected:kiss-rstr' },
  { name: 'LI 3', behaviour: (c) => c.reply(buildReply(c.request, now({ leap: 3 }))), expect: 'rejected:unsynchronized' },
  { name: 'stratum 0', behaviour: (c) => c.reply(buildReply(c.request, now({ stratum: 0, refId: '\0\0\0\0' }))), expect: 'rejected:bad-stratum' },
  { name: 'stratum 16', behaviour: (c) => c.reply(buildReply(c.request, now({ stratum: 16 }))), expect: 'rejected:bad-stratum' },
  { name: 'zero receive timestamp', behaviour: (c) => c.reply(buildReply(c.request, now({ zeroReceive: true }))), expect: 'rejected:zero-timestamp' },
  { name: 'zero transmit timestamp', behaviour: (c) => c.reply(buildReply(c.request, now({ zeroTransmit: true }))), expect: 'rejected:zero-timestamp' },
  { name: 'huge root dispersion', behaviour: (c) => c.reply(buildReply(c.request, now({ rootDispersionMs: 30_000 }))), expect: 'rejected:root-distance' },
  { name: 'huge root delay', behaviour: (c) => c.reply(buildReply(c.request, now({ rootDelayMs: 60_000 }))), expect: 'rejected:root-distance' },
  {
    name: 'era-1 timestamps (a liar 11 years ahead, past 2036)',
    behaviour: (c) => {
      const t = Date.now() + ELEVEN_YEARS_MS;
      c.reply(buildReply(c.request, { receiveMs: t, transmitMs: t }));
    },
    expect: 'falseticker:outside-majority',
  },
  { name: 'truncated packet', behaviour: (c) => c.reply(buildReply(c.request, now()).subarray(0, 47)), expect: 'rejected:timeout' },
  {
    name: 'oversized packet',
    behaviour: (c) => {
      const big = new Uint8Array(1200);
      big.set(buildReply(c.request, now()));
      c.reply(big);
    },
    expect: 'rejected:timeout',
  },
  {
    name: 'random garbage',
    behaviour: (c) => {
      for (let i = 0; i < 20; i++) c.reply(randomBytes(Math.floor(Math.random() * 200)));
    },
    expect: 'rejected:timeout',
  },
  { name: 'empty datagram', behaviour: (c) => c.reply(new Uint8Array(0)), expect: 'rejected:timeout' },
];

interface FakeServer {
  address: string;
  /** Ephemeral: concurrent test runs on one machine cannot collide. */
  port: number;
  close(): Promise<void>;
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

async function startServer(address: string, behaviour: Behaviour): Promise<FakeServer> {
  const main = dgram.createSocket('udp4');
  const other = dgram.createSocket('udp4');
  const elsewhere = dgram.createSocket('udp4');
  const closeOne = (s: dgram.Socket): Promise<void> => new Promise((resolve) => s.close(() => resolve()));
  const closeAll = async (): Promise<void> => void (await Promise.all([closeOne(main), closeOne(other), closeOne(elsewhere)]));
  try {
    await bind(main, 0, address);
    await bind(other, 0, address);
    await bind(elsewhere, 0, address.replace(/\.\d+$/, '.250'));
  } catch (e) {
    await closeAll();
    throw e;
  }
  main.on('message', (msg, rinfo) => {
    const to = (s: dgram.Socket): Send => (bytes) => s.send(bytes, rinfo.port, rinfo.address);
    behaviour({ request: new Uint8Array(msg), reply: to(main), replyFromOtherPort: to(other), replyFromOtherAddress: to(elsewhere) });
  });
  return { address, port: main.address().port, close: closeAll };
}

async function runRound(behaviours: Behaviour[], subnet: number): Promise<ServerOutcome[]> {
  const servers: FakeServer[] = [];
  try {
    for (let i = 0; i < behaviours.length; i++) servers.push(await startServer(`127.0.${subnet}.${i + 2}`, behaviours[i]!));
    const clock = new SecureClock({ ticks: new NodeTicks(), buildTimeMs: FLOOR_2026 });
    const client = new SntpClient({
      udp: new NodeUdp(),
      timers: new NodeTimers(),
      random: new NodeRandom(),
      clock,
      servers: servers.map((s) => ({ address: s.address, port: s.port })),
      timeoutMs: 300,
      attempts: 2,
      retryJitterMs: 50,
    });
    const outcomes = await new Promise<ServerOutcome[]>((resolve) => client.round(resolve));
    assert.equal(clock.now().state, 'SYNCED', `the two honest servers sync the clock: ${JSON.stringify(outcomes)}`);
    const t0 = clock.now();
    const truth = Date.now();
    const t1 = clock.now();
    assert.ok(t0.earliest <= truth && truth <= t1.latest, 'true time inside the interval');
    return outcomes;
  } finally {
    for (const s of servers) await s.close();
  }
}

test('adversarial fake servers: nothing accepted that should not be, every reason right, no exception escapes', { timeout: 60_000 }, async () => {
  const escaped: unknown[] = [];
  const onError = (e: unknown): void => void escaped.push(e);
  process.on('uncaughtException', onError);
  try {
    const perRound = 6; // + 2 honest = 8 servers, the client's maximum
    for (let at = 0, subnet = 125; at < adversaries.length; at += perRound, subnet++) {
      const group = adversaries.slice(at, at + perRound);
      const outcomes = await runRound([honest, honest, ...group.map((a) => a.behaviour)], subnet);
      assert.deepEqual(outcomes.slice(0, 2).map((o) => o.verdict), ['accepted', 'accepted']);
      group.forEach((a, i) => {
        const o = outcomes[i + 2]!;
        assert.equal(`${o.verdict}:${o.reason}`, a.expect, a.name);
      });
      const era1 = group.findIndex((a) => a.name.startsWith('era-1'));
      if (era1 >= 0) {
        // decoded as 11 years ahead (era 1), not as ~125 years back (era 0)
        const off = outcomes[era1 + 2]!.offsetMs - outcomes[0]!.offsetMs;
        assert.ok(Math.abs(off - ELEVEN_YEARS_MS) < 5000, `era-1 offset ${off}`);
      }
    }
  } finally {
    process.off('uncaughtException', onError);
  }
  assert.deepEqual(escaped, []);
});
