// SNTP packet validation and the client's handling of honest, broken and
// hostile servers, over scripted UDP. Expected numbers come from RFC 5905's
// definitions worked by hand (see each case), never from the core's output.
import type { Check, PortableSuite } from '../harness/portable.js';
import { encodeRequest, parseReply, NtpReply, type ReplyVerdict } from '../../src/time/ntp-packet.js';
import { ntpToUnixMs } from '../../src/time/ntp-era.js';
import { SecureClock } from '../../src/time/secure-clock.js';
import { SntpClient, type ServerOutcome } from '../../src/time/sntp-client.js';
import { ManualTicks, ManualTimer, ScriptedUdp, SeededRandom, buildReply, runSntpRound, type ReplySpec, type ScriptedSocket } from '../harness/fakes.js';

/** 2026-01-01T00:00:00Z */
const FLOOR_2026 = 1_767_225_600_000;
/** Wall time at monotonic 0 in the scripted world: 2027-01-15T08:00:00Z. */
const WALL0 = 1_800_000_000_000;
/** Era 1 starts at NTP seconds 2^32 = 2036-02-07T06:28:16Z = Unix 2085978496 s. */
const ERA1_UNIX_MS = 2_085_978_496_000;
const NONCE = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const PRECISION_2_20_MS = 1000 / 1048576;

function request(): Uint8Array {
  const r = new Uint8Array(48);
  encodeRequest(r, NONCE);
  return r;
}

function verdictOf(bytes: Uint8Array, length = bytes.length): ReplyVerdict {
  return parseReply(bytes, length, NONCE, FLOOR_2026, 1500, new NtpReply());
}

const T = { receiveMs: WALL0, transmitMs: WALL0 + 1 };

interface Rig {
  ticks: ManualTicks;
  timers: ManualTimer;
  udp: ScriptedUdp;
  clock: SecureClock;
  client: SntpClient;
}

/** Server behaviour: given the request, when it was sent (mono) and the server's address, reply or not. */
type Behaviour = (socket: ScriptedSocket, req: Uint8Array, address: string, port: number, rig: Rig) => void;

/** An honest server 10 ms away each direction, 2 ms processing: T2 = wall(t1) + 10, T3 = T2 + 2, t4 = t1 + 22. */
function honest(extra: Partial<ReplySpec> = {}, shiftMs = 0): Behaviour {
  return (socket, req, address, port, rig) => {
    const t1 = rig.ticks.raw; // ms ticks
    const t2 = WALL0 + t1 + 10 + shiftMs;
    rig.timers.set(() => socket.deliver(buildReply(req, { receiveMs: t2, transmitMs: t2 + 2, ...extra }), address, port), 22);
  };
}

function rig(behaviours: Behaviour[], options: { attempts?: number; floorMs?: number; wall0?: number } = {}): Rig {
  const ticks = new ManualTicks(1000, 0, 0);
  const timers = new ManualTimer(ticks);
  const udp = new ScriptedUdp();
  const clock = new SecureClock({ ticks, buildTimeMs: options.floorMs ?? FLOOR_2026 });
  const servers = behaviours.map((_, i) => ({ address: `127.0.0.${i + 2}`, port: 123 }));
  const client = new SntpClient({ udp, timers, random: new SeededRandom(99), clock, servers, attempts: options.attempts ?? 2, timeoutMs: 500, retryJitterMs: 100 });
  const r: Rig = { ticks, timers, udp, clock, client };
  udp.onSend = (socket, d) => {
    const i = servers.findIndex((s) => s.address === d.address && s.port === d.port);
    if (i >= 0) behaviours[i]!(socket, d.bytes, d.address, d.port, r);
  };
  return r;
}

const runRound = (r: Rig): ServerOutcome[] => runSntpRound(r.client, r.timers);

function reasons(o: ServerOutcome[]): string[] {
  return o.map((x) => `${x.verdict}:${x.reason}`);
}

function datagramsSent(r: Rig): number {
  return r.udp.sockets.reduce((n, s) => n + s.sent.length, 0);
}

function noneAccepted(t: Check, o: ServerOutcome[]): void {
  for (const x of o) t.ok(x.verdict !== 'accepted', `${x.server} must not be accepted: ${x.reason}`);
}

const suite: PortableSuite = () => [
  {
    name: 'request: LI 0, version 4, mode 3, all zero but the nonce in the transmit timestamp',
    run(t) {
      const r = request();
      t.equal(r[0], 0x23);
      for (let i = 1; i < 40; i++) t.equal(r[i], 0, `byte ${i}`);
      t.deepEqual(r.subarray(40, 48), NONCE);
    },
  },
  {
    name: 'era: conversion pivots on the trusted floor',
    run(t) {
      // 2026-01-01: Unix 1767225600 s + 2208988800 s = NTP 3976214400
      t.equal(ntpToUnixMs(3976214400, 0, FLOOR_2026), 1_767_225_600_000);
      t.equal(ntpToUnixMs(3976214400, 2 ** 31, FLOOR_2026), 1_767_225_600_500, 'fraction 1/2 = 500 ms');
      t.equal(ntpToUnixMs(0, 0, FLOOR_2026), ERA1_UNIX_MS, 'seconds 0 after a 2026 floor is era 1, not 1900');
      t.equal(ntpToUnixMs(100, 0, FLOOR_2026), ERA1_UNIX_MS + 100_000);
      // floor 1990-01-01 (Unix 631152000 s): NTP 2208988800 is the Unix epoch, era 0
      t.equal(ntpToUnixMs(2208988800, 0, 631_152_000_000), 0);
      // floor right after the era-1 rollover: era-0 seconds near 2^32 map to just before it
      t.equal(ntpToUnixMs(4294967295, 0, ERA1_UNIX_MS + 3_600_000), ERA1_UNIX_MS - 1000);
    },
  },
  {
    name: 'parse: a valid reply yields RFC 5905 fields in milliseconds',
    run(t) {
      const out = new NtpReply();
      const bytes = buildReply(request(), { receiveMs: WALL0, transmitMs: WALL0 + 250, rootDelayMs: 500, rootDispersionMs: 125, precision: -20, stratum: 3 });
      t.equal(parseReply(bytes, 48, NONCE, FLOOR_2026, 1500, out), 'ok');
      t.equal(out.stratum, 3);
      t.equal(out.receiveMs, WALL0);
      t.equal(out.transmitMs, WALL0 + 250);
      t.equal(out.rootDelayMs, 500, '0x8000 / 65536 s');
      t.equal(out.rootDispersionMs, 125, '0x2000 / 65536 s');
      t.equal(out.precisionMs, PRECISION_2_20_MS);
    },
  },
  {
    name: 'parse: every malformed or unusable reply gets its own reason',
    run(t) {
      const req = request();
      const ok = buildReply(req, T);
      t.equal(verdictOf(ok, 47), 'truncated');
      t.equal(verdictOf(new Uint8Array(0)), 'truncated');
      const long = new Uint8Array(68);
      long.set(ok);
      t.equal(verdictOf(long), 'oversized');
      t.equal(verdictOf(buildReply(req, { ...T, version: 2 })), 'bad-version');
      t.equal(verdictOf(buildReply(req, { ...T, mode: 3 })), 'not-server-mode');
      t.equal(verdictOf(buildReply(req, { ...T, mode: 5 })), 'not-server-mode');
      t.equal(verdictOf(buildReply(req, { ...T, origin: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 9]) })), 'origin-mismatch');
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 0, leap: 3, refId: 'RATE' })), 'kiss-rate');
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 0, leap: 3, refId: 'DENY' })), 'kiss-deny');
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 0, leap: 3, refId: 'RSTR' })), 'kiss-rstr');
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 0, leap: 3, refId: 'INIT' })), 'kiss-other');
      t.equal(verdictOf(buildReply(req, { ...T, leap: 3 })), 'unsynchronized');
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 0, leap: 3, refId: '\0\0\0\0' })), 'unsynchronized', "chrony's unsynchronised answer");
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 0, refId: '\0\0\0\0' })), 'bad-stratum');
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 16 })), 'bad-stratum');
      t.equal(verdictOf(buildReply(req, { ...T, stratum: 255 })), 'bad-stratum');
      t.equal(verdictOf(buildReply(req, { ...T, zeroReceive: true })), 'zero-timestamp');
      t.equal(verdictOf(buildReply(req, { ...T, zeroTransmit: true })), 'zero-timestamp');
      t.equal(verdictOf(buildReply(req, { ...T, zeroReference: true })), 'zero-timestamp');
      t.equal(verdictOf(buildReply(req, { ...T, rootDispersionMs: 1600 })), 'root-distance');
      t.equal(verdictOf(buildReply(req, { ...T, rootDelayMs: 3200 })), 'root-distance', '3.2 s / 2 > 1.5 s');
      t.equal(verdictOf(buildReply(req, { ...T, rootDelayMs: 2000, rootDispersionMs: 400 })), 'ok', '1.0 + 0.4 s < 1.5 s');
      t.equal(verdictOf(buildReply(req, { receiveMs: WALL0 + 5, transmitMs: WALL0 })), 'server-time-order');
    },
  },
  {
    name: 'parse: random garbage never throws and is never ok',
    run(t) {
      const rng = new SeededRandom(0xbad);
      const out = new NtpReply();
      const buf = new Uint8Array(100);
      for (let i = 0; i < 2000; i++) {
        rng.fill(buf);
        const v = parseReply(buf, rng.below(101), NONCE, FLOOR_2026, 1500, out);
        t.ok(v !== 'ok', `garbage ${i} accepted`);
      }
    },
  },
  {
    name: 'client: offset and delay from T1..T4 on the monotonic clock; 3 agreeing servers sync the clock',
    run(t) {
      const r = rig([honest(), honest(), honest()]);
      const o = runRound(r);
      t.deepEqual(reasons(o), ['accepted:', 'accepted:', 'accepted:']);
      // t1 = 0 (mono), T2 = WALL0 + 10, T3 = WALL0 + 12, t4 = 22:
      // offset = ((T2 - t1) + (T3 - t4)) / 2 = ((WALL0 + 10) + (WALL0 + 12 - 22)) / 2 = WALL0
      // (symmetric paths: exact); delay = (t4 - t1) - (T3 - T2) = 22 - 2 = 20
      t.equal(o[0]!.offsetMs, WALL0);
      t.equal(o[0]!.delayMs, 20);
      t.equal(o[0]!.monoMs, 22);
      // bound = delay/2 + rootDelay/2 + rootDisp + precision + tick (1 ms) + 50 ppm * rtt (22 ms)
      t.equal(o[0]!.boundMs, 10 + 0 + 0 + PRECISION_2_20_MS + 1 + 50e-6 * 22);
      const now = r.clock.now();
      t.equal(now.state, 'SYNCED');
      const trueWall = WALL0 + r.ticks.raw;
      t.ok(now.earliest <= trueWall && trueWall <= now.latest, 'the interval contains true time');
      t.ok(now.bound < 15, `bound ${now.bound}`);
      t.equal(datagramsSent(r), 3);
    },
  },
  {
    name: 'client: an asymmetric path biases the offset but the bound still covers true time',
    run(t) {
      // 2 ms out, 2 ms processing, 18 ms back: T2 = WALL0 + 2, T3 = WALL0 + 4, t4 = 22.
      // offset = ((WALL0 + 2) + (WALL0 + 4 - 22)) / 2 = WALL0 - 8; delay = 22 - 2 = 20; |bias| 8 <= delay/2.
      const skewed: Behaviour = (socket, req, address, port, rg) => {
        const t2 = WALL0 + rg.ticks.raw + 2;
        rg.timers.set(() => socket.deliver(buildReply(req, { receiveMs: t2, transmitMs: t2 + 2 }), address, port), 22);
      };
      const r = rig([skewed, skewed]);
      const o = runRound(r);
      t.equal(o[0]!.offsetMs, WALL0 - 8);
      t.equal(o[0]!.delayMs, 20);
      t.ok(o[0]!.offsetMs - o[0]!.boundMs <= WALL0 && WALL0 <= o[0]!.offsetMs + o[0]!.boundMs);
      const now = r.clock.now();
      t.ok(now.earliest <= WALL0 + r.ticks.raw && WALL0 + r.ticks.raw <= now.latest);
    },
  },
  {
    name: 'client: replies from another address or port are ignored and counted; the real one still counts',
    run(t) {
      const r = rig([
        (socket, req, address, port, rg) => {
          socket.deliver(buildReply(req, T), '127.0.0.99', port);
          socket.deliver(buildReply(req, T), address, 124);
          honest()(socket, req, address, port, rg);
        },
        honest(),
      ]);
      const o = runRound(r);
      t.deepEqual(reasons(o), ['accepted:', 'accepted:']);
      t.equal(r.client.ignored['wrong-sender'], 2);
    },
  },
  {
    name: 'client: a spoofed originate (or spoofed KoD DENY) is ignored; the query times out after bounded retries',
    run(t) {
      const r = rig(
        [
          (socket, req, address, port) => {
            const wrong = new Uint8Array(8);
            socket.deliver(buildReply(req, { ...T, origin: wrong }), address, port);
            socket.deliver(buildReply(req, { ...T, origin: wrong, stratum: 0, refId: 'DENY' }), address, port);
          },
        ],
        { attempts: 3 },
      );
      const o = runRound(r);
      t.deepEqual(reasons(o), ['rejected:timeout']);
      t.equal(r.client.ignored['origin-mismatch'], 6);
      t.equal(r.udp.sockets.length, 3, 'exactly `attempts` queries, each on a fresh socket');
      t.ok(r.udp.sockets.every((s) => s.closed), 'every socket closed');
      // not dropped: after 64 s it is queried again
      r.timers.advance(64_000);
      runRound(r);
      t.equal(r.udp.sockets.length, 6);
    },
  },
  {
    name: 'client: each retry uses a fresh nonce',
    run(t) {
      const r = rig([() => {}], { attempts: 3 });
      runRound(r);
      const nonces = r.udp.sockets.map((s) => Array.from(s.sent[0]!.bytes.subarray(40, 48)).join(','));
      t.equal(nonces.length, 3);
      t.ok(nonces[0] !== nonces[1] && nonces[1] !== nonces[2] && nonces[0] !== nonces[2]);
    },
  },
  {
    name: 'client: KoD RATE backs the server off (64 s, then doubling); DENY and RSTR drop it for good',
    run(t) {
      const kiss = (code: string): Behaviour => (socket, req, address, port) => socket.deliver(buildReply(req, { ...T, stratum: 0, leap: 3, refId: code }), address, port);
      const r = rig([kiss('RATE'), kiss('DENY'), kiss('RSTR')]);
      t.deepEqual(reasons(runRound(r)), ['rejected:kiss-rate', 'rejected:kiss-deny', 'rejected:kiss-rstr']);
      t.equal(datagramsSent(r), 3);
      r.timers.advance(63_000);
      t.deepEqual(reasons(runRound(r)), ['rejected:rate-limited', 'rejected:kiss-deny', 'rejected:kiss-rstr']);
      t.equal(datagramsSent(r), 3, 'nothing sent to a backed-off or dropped server');
      r.timers.advance(1_000);
      t.deepEqual(reasons(runRound(r)), ['rejected:kiss-rate', 'rejected:kiss-deny', 'rejected:kiss-rstr']);
      t.equal(datagramsSent(r), 4);
      r.timers.advance(100_000); // second RATE doubled the back-off to 128 s
      t.deepEqual(reasons(runRound(r))[0], 'rejected:rate-limited');
      r.timers.advance(28_000);
      t.deepEqual(reasons(runRound(r))[0], 'rejected:kiss-rate');
      t.equal(datagramsSent(r), 5);
    },
  },
  {
    name: 'client: a server that answered is not polled again within 64 s',
    run(t) {
      const r = rig([honest(), honest()]);
      runRound(r);
      r.timers.advance(10_000);
      t.deepEqual(reasons(runRound(r)), ['rejected:rate-limited', 'rejected:rate-limited']);
      t.equal(datagramsSent(r), 2);
      r.timers.advance(54_000);
      t.deepEqual(reasons(runRound(r)), ['accepted:', 'accepted:']);
      t.equal(datagramsSent(r), 4);
    },
  },
  {
    name: 'client: unsynchronised, stratum 0/16, zero timestamps, huge root dispersion are rejected with their reason',
    run(t) {
      const r = rig([
        honest({ leap: 3 }),
        honest({ stratum: 0, refId: '\0\0\0\0' }),
        honest({ stratum: 16 }),
        honest({ zeroTransmit: true }),
        honest({ rootDispersionMs: 10_000 }),
      ]);
      const o = runRound(r);
      t.deepEqual(reasons(o), ['rejected:unsynchronized', 'rejected:bad-stratum', 'rejected:bad-stratum', 'rejected:zero-timestamp', 'rejected:root-distance']);
      t.equal(r.clock.now().state, 'UNTRUSTED');
    },
  },
  {
    name: 'client: truncated, oversized and garbage datagrams from the right sender are counted, never accepted, nothing throws',
    run(t) {
      const rng = new SeededRandom(7);
      const r = rig(
        [
          (socket, req, address, port) => {
            const good = buildReply(req, T);
            socket.deliver(good.subarray(0, 40), address, port);
            const big = new Uint8Array(600);
            big.set(good);
            socket.deliver(big, address, port);
            for (let i = 0; i < 50; i++) {
              const g = new Uint8Array(rng.below(120));
              rng.fill(g);
              socket.deliver(g, address, port);
            }
          },
        ],
        { attempts: 1 },
      );
      const o = runRound(r);
      t.deepEqual(reasons(o), ['rejected:timeout']);
      t.ok(r.client.ignored.truncated >= 1 && r.client.ignored.oversized >= 1, JSON.stringify(r.client.ignored));
      const total = Object.keys(r.client.ignored).reduce((n, k) => n + r.client.ignored[k as keyof typeof r.client.ignored], 0);
      t.equal(total, 52, 'every datagram counted once');
    },
  },
  {
    name: 'client: era-1 timestamps decode after the 2036 rollover; a claim before the floor is refused',
    run(t) {
      // Floor 2036-01-01 (Unix 2082758400 s); true time 2036-03-01 (Unix 2087942400 s): NTP seconds have wrapped.
      const floor = 2_082_758_400_000;
      const wall0 = 2_087_942_400_000;
      const era1 = (): Behaviour => (socket, req, address, port, rg) => {
        const t2 = wall0 + rg.ticks.raw + 10;
        rg.timers.set(() => socket.deliver(buildReply(req, { receiveMs: t2, transmitMs: t2 + 2 }), address, port), 22);
      };
      const liarBeforeFloor = (): Behaviour => (socket, req, address, port) => socket.deliver(buildReply(req, { receiveMs: floor - 86_400_000, transmitMs: floor - 86_400_000 }), address, port);
      const r = rig([era1(), era1(), liarBeforeFloor()], { floorMs: floor });
      const o = runRound(r);
      t.deepEqual(reasons(o), ['accepted:', 'accepted:', 'rejected:before-floor']);
      t.equal(o[0]!.offsetMs, wall0, 'symmetric 10 ms paths: offset is exactly wall - mono');
      const now = r.clock.now();
      t.equal(now.state, 'SYNCED');
      t.ok(now.earliest <= wall0 + r.ticks.raw && wall0 + r.ticks.raw <= now.latest);
    },
  },
  {
    name: 'client: 3 honest and 1 liar: the liar is a falseticker and the interval holds true time',
    run(t) {
      const r = rig([honest(), honest(), honest(), honest({}, 600_000)]);
      const o = runRound(r);
      t.deepEqual(reasons(o), ['accepted:', 'accepted:', 'accepted:', 'falseticker:outside-majority']);
      const now = r.clock.now();
      const trueWall = WALL0 + r.ticks.raw;
      t.ok(now.earliest <= trueWall && trueWall <= now.latest);
    },
  },
  {
    name: 'client: 1 honest and 1 liar with minSources 2: untrusted, fail closed',
    run(t) {
      const r = rig([honest(), honest({}, 600_000)]);
      const o = runRound(r);
      t.deepEqual(reasons(o), ['rejected:no-majority', 'rejected:no-majority']);
      t.equal(r.clock.now().state, 'UNTRUSTED');
      t.equal(r.clock.trusted(1e12), false);
    },
  },
];
export default suite;
