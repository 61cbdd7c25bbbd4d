// Property tests, seeded (same cases on Node and XS): random and malformed
// Date headers into SecureClock.addDateVote, random and mutated datagrams
// into the SNTP client's socket callback. Properties: no exception escapes,
// every refusal is counted, garbage never makes the clock SYNCED, and SNTP
// never lifts the floor above boot floor + uptime. A few thousand cases, so
// that the suite stays fast on XS.
import type { PortableSuite } from '../harness/portable.js';
import { SecureClock } from '../../src/time/secure-clock.js';
import { SntpClient, type ServerOutcome } from '../../src/time/sntp-client.js';
import { ManualTicks, ManualTimer, ScriptedUdp, SeededRandom, buildReply, runSntpRound, type ScriptedSocket } from '../harness/fakes.js';

/** True wall time at monotonic 0: 2027-01-15T08:00:00Z. */
const WALL0 = 1_800_000_000_000;
const BUILD = WALL0 - 3_600_000;
const DAY_MS = 86_400_000;
const DATE_CASES = 2500;
const GARBAGE_ROUNDS = 250;
const MUTATION_ROUNDS = 120;

/**
 * Independent oracle: an IMF-fixdate is exactly what Date#toUTCString prints
 * for a four-digit year (29 characters; RFC 9110 says 4DIGIT), and a leap
 * second :60 is allowed.
 */
function oracleDateMs(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim().replace(/:60 GMT$/, ':59 GMT');
  if (text.length !== 29) return null;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || new Date(ms).toUTCString() !== text) return null;
  return ms;
}

function mutateText(rng: SeededRandom, text: string): string {
  let s = text;
  const edits = 1 + rng.below(3);
  for (let e = 0; e < edits; e++) {
    const at = rng.below(s.length + 1);
    const op = rng.below(7);
    if (op === 0) s = s.slice(0, at) + String.fromCharCode(rng.below(0x10000)) + s.slice(at + 1);
    else if (op === 1) s = s.slice(0, at) + s.slice(at + 1);
    else if (op === 2) s = s.slice(0, at) + String.fromCharCode(32 + rng.below(95)) + s.slice(at);
    else if (op === 3) s = s.slice(0, at);
    else if (op === 4) s = s.slice(0, at) + String.fromCharCode(48 + rng.below(10)) + s.slice(at + 1);
    else if (op === 5) s = s + s;
    else s = s.toLowerCase();
  }
  return s;
}

function randomText(rng: SeededRandom): string {
  let s = '';
  const n = rng.below(40);
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.chance(0.8) ? 32 + rng.below(95) : rng.below(0x10000));
  return s;
}

const ODD_VALUES: readonly unknown[] = [null, undefined, 0, NaN, 1e300, true, {}, [], ['Date'], { toString: () => 'Fri, 15 Jan 2027 08:00:00 GMT' }];

function randomHeaders(rng: SeededRandom, floorMs: number): unknown {
  const roll = rng.below(20);
  if (roll === 0) return ODD_VALUES[rng.below(ODD_VALUES.length)];
  if (roll === 1) return new Array(200 + rng.below(200)).fill(['X-Pad', 'y']);
  const list: unknown[] = [];
  const extra = rng.below(4);
  for (let i = 0; i < extra; i++) list.push([rng.chance(0.5) ? 'Server' : randomText(rng), randomText(rng)]);
  const valid = new Date(floorMs - 2 * DAY_MS + rng.below(4 * DAY_MS)).toUTCString();
  const kind = rng.below(10);
  let value: unknown;
  if (kind < 3) value = valid;
  else if (kind < 7) value = mutateText(rng, valid);
  else if (kind < 8) value = randomText(rng);
  else value = ODD_VALUES[rng.below(ODD_VALUES.length)];
  const name = rng.chance(0.9) ? (rng.chance(0.5) ? 'Date' : 'date') : mutateText(rng, 'Date');
  const entry = rng.chance(0.95) ? [name, value] : rng.chance(0.5) ? [name] : [name, value, 'x'];
  list.splice(rng.below(list.length + 1), 0, entry);
  if (rng.chance(0.05)) list.push(['Age', '3']);
  if (rng.chance(0.05)) list.push([rng.chance(0.5) ? 'Date' : 'DATE', valid]);
  if (rng.chance(0.03)) list.push(ODD_VALUES[rng.below(ODD_VALUES.length)]);
  return list;
}

/** What the oracle says a well-formed header list with one Date and no Age carries, or null. */
function oracleVote(headers: unknown): number | null {
  if (!Array.isArray(headers) || headers.length > 256) return null;
  let date: unknown = undefined;
  let dates = 0;
  for (const h of headers) {
    if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string') return null;
    const name = h[0].toLowerCase();
    if (name === 'age') return null;
    if (name === 'date') {
      dates++;
      date = h[1];
    }
  }
  return dates === 1 ? oracleDateMs(date) : null;
}

interface SntpRig {
  ticks: ManualTicks;
  timers: ManualTimer;
  clock: SecureClock;
  client: SntpClient;
  /** Calls made into a socket's onReceive (what the client had to handle). */
  handled: number;
}

const SERVERS = [
  { address: '127.0.0.2', port: 123 },
  { address: '127.0.0.3', port: 123 },
  { address: '127.0.0.4', port: 123 },
];

type Datagram = { bytes: unknown; address: string; port: number };

function sntpRig(makeDatagrams: (req: Uint8Array, address: string, port: number, trueNowMs: number) => Datagram[], rng: SeededRandom): SntpRig {
  const ticks = new ManualTicks(1000, 0, 0);
  const timers = new ManualTimer(ticks);
  const udp = new ScriptedUdp();
  const clock = new SecureClock({ ticks, buildTimeMs: BUILD });
  const client = new SntpClient({ udp, timers, random: new SeededRandom(5), clock, servers: SERVERS, attempts: 2, timeoutMs: 500, retryJitterMs: 50 });
  const r: SntpRig = { ticks, timers, clock, client, handled: 0 };
  udp.onSend = (socket: ScriptedSocket, d) => {
    const handler = socket.onReceive;
    for (const g of makeDatagrams(d.bytes, d.address, d.port, WALL0 + ticks.raw)) {
      // Some arrive after the query is over, through the handler the port kept: 'stale'.
      timers.set(() => {
        if (!handler) return;
        r.handled++;
        handler(g.bytes as Uint8Array, g.address, g.port);
      }, 1 + rng.below(700));
    }
  };
  return r;
}

/** A round, then 1 s more so that late datagrams land. */
const runRound = (r: SntpRig): ServerOutcome[] => runSntpRound(r.client, r.timers, 1000);

function ignoredTotal(c: SntpClient): number {
  let n = 0;
  for (const k of Object.keys(c.ignored)) n += (c.ignored as Record<string, number>)[k]!;
  return n;
}

const suite: PortableSuite = () => [
  {
    name: `Date votes: ${DATE_CASES} random and malformed header lists: never throws, refusals counted, only oracle-valid Dates accepted, floor moves only for them`,
    run(t) {
      const rng = new SeededRandom(0xda7e);
      const ticks = new ManualTicks(1000, 0, 0);
      const clock = new SecureClock({ ticks, buildTimeMs: BUILD });
      ticks.raw = 10_000;
      clock.now();
      let refused = 0;
      let accepted = 0;
      for (let i = 0; i < DATE_CASES; i++) {
        const headers = randomHeaders(rng, clock.floor.floorMs);
        const sent = rng.chance(0.9) ? ticks.raw - rng.below(500) : ODD_VALUES[rng.below(ODD_VALUES.length)];
        const source = rng.chance(0.9) ? `s${rng.below(3)}` : (ODD_VALUES[rng.below(ODD_VALUES.length)] as string);
        const floorBefore = clock.floor.floorMs;
        let verdict: string;
        try {
          verdict = clock.addDateVote(source, headers as Array<[string, string]>, sent as number);
        } catch (e) {
          t.ok(false, `case ${i}: addDateVote threw ${String(e)}`);
          return;
        }
        t.ok(['accepted', 'before-floor', 'invalid', 'full', 'no-date', 'age-present'].indexOf(verdict) >= 0, `case ${i}: verdict ${verdict}`);
        if (verdict === 'invalid' || verdict === 'before-floor' || verdict === 'full') refused++;
        const oracle = oracleVote(headers);
        if (verdict === 'accepted' || verdict === 'full') {
          accepted++;
          t.ok(oracle !== null, `case ${i}: accepted a Date the oracle refuses: ${JSON.stringify(headers)}`);
          t.ok(clock.floor.floorMs <= Math.max(floorBefore, oracle!), `case ${i}: floor above the Date`);
        } else {
          t.equal(clock.floor.floorMs, floorBefore, `case ${i}: a refused vote (${verdict}) moved the floor`);
        }
        if (oracle !== null && typeof sent === 'number' && sent <= ticks.raw && oracle >= floorBefore + 1000) {
          t.ok(verdict === 'accepted', `case ${i}: a well-formed Date after the floor was ${verdict}`);
        }
        t.ok(clock.floor.floorMs <= BUILD + ticks.raw + DAY_MS, `case ${i}: floor above the per-boot cap`);
        if (i % 50 === 49) {
          ticks.raw += 1000;
          clock.now(); // the floor follows uptime here, not inside the next vote
        }
      }
      t.equal(clock.rejectedDateVotes, refused);
      t.ok(accepted > 50 && refused > 500, `the generator exercises both sides: ${accepted} accepted, ${refused} refused`);
    },
  },
  {
    name: `SNTP: ${GARBAGE_ROUNDS} rounds of random, truncated, oversized, misaddressed and non-byte datagrams: nothing escapes, every datagram is counted, never SYNCED, floor only follows uptime`,
    run(t) {
      const rng = new SeededRandom(0x5eed);
      const odd: readonly unknown[] = [null, undefined, 'x'.repeat(48), 48, {}, [4, 1, 2], new Uint16Array(24), new ArrayBuffer(48), { length: 48 }];
      let huge = 0;
      const r = sntpRig((req, address, port, trueNowMs) => {
        const valid = buildReply(req, { receiveMs: trueNowMs + 10, transmitMs: trueNowMs + 12 });
        const out: Datagram[] = [];
        const n = 1 + rng.below(4);
        for (let i = 0; i < n; i++) {
          const kind = rng.below(7);
          if (kind === 0) {
            const b = new Uint8Array(rng.below(120));
            rng.fill(b);
            out.push({ bytes: b, address, port });
          } else if (kind === 1) out.push({ bytes: valid, address, port: port + 1 + rng.below(100) });
          else if (kind === 2) out.push({ bytes: valid, address: rng.chance(0.5) ? '127.0.0.99' : '', port });
          else if (kind === 3) out.push({ bytes: valid.slice(0, rng.below(48)), address, port });
          else if (kind === 4) {
            const big = new Uint8Array(huge++ % 100 === 0 ? 70_000 : 49 + rng.below(600));
            big.set(valid);
            out.push({ bytes: big, address, port });
          } else if (kind === 5) out.push({ bytes: odd[rng.below(odd.length)], address, port });
          else {
            // A well-formed reply whose origin is not our nonce (an off-path forger).
            const forged = valid.slice();
            for (let k = 24; k < 32; k++) forged[k] = rng.below(256);
            out.push({ bytes: forged, address, port });
          }
        }
        return out;
      }, rng);
      for (let round = 0; round < GARBAGE_ROUNDS; round++) {
        const o = runRound(r);
        for (const x of o) t.ok(x.verdict === 'rejected' && x.reason === 'timeout', `round ${round}: ${x.server} ${x.verdict} ${x.reason}`);
        t.ok(r.clock.now().state !== 'SYNCED', `round ${round}: SYNCED from garbage`);
        t.ok(r.clock.floor.floorMs <= BUILD + r.ticks.raw, `round ${round}: floor above boot floor + uptime`);
      }
      t.equal(ignoredTotal(r.client), r.handled, `every datagram handled is counted: ${JSON.stringify(r.client.ignored)}`);
      t.equal(r.client.ignored['callback-error'], 0, 'no exception was raised inside the handler');
      t.ok(r.client.ignored['not-bytes'] > 0 && r.client.ignored.stale > 0 && r.client.ignored.oversized > 0, JSON.stringify(r.client.ignored));
    },
  },
  {
    name: `SNTP: ${MUTATION_ROUNDS} rounds of bit-flipped replies from a liar majority (+1 year): nothing escapes, rounds end, the floor never rises above boot floor + uptime`,
    run(t) {
      const rng = new SeededRandom(0xf11b);
      const r = sntpRig((req, address, port, trueNowMs) => {
        const liar = address !== SERVERS[0]!.address;
        const base = trueNowMs + (liar ? 365 * DAY_MS : 0);
        const out: Datagram[] = [];
        const n = 1 + rng.below(3);
        for (let i = 0; i < n; i++) {
          const b = buildReply(req, { receiveMs: base + 10, transmitMs: base + 12 });
          const flips = rng.below(4);
          for (let k = 0; k < flips; k++) b[rng.below(48)]! ^= 1 << rng.below(8);
          out.push({ bytes: b, address, port });
        }
        return out;
      }, rng);
      let synced = 0;
      for (let round = 0; round < MUTATION_ROUNDS; round++) {
        const o = runRound(r);
        t.equal(o.length, SERVERS.length);
        if (r.clock.now().state === 'SYNCED') synced++;
        t.ok(r.clock.floor.floorMs <= BUILD + r.ticks.raw, `round ${round}: floor ${r.clock.floor.floorMs - BUILD} above build, uptime ${r.ticks.raw}`);
        r.timers.advance(65_000); // past the 64 s per-server poll limit
      }
      t.equal(r.client.ignored['callback-error'], 0);
      t.ok(synced > 0, 'some rounds let the liars set the clock (SNTP may), yet the floor held');
    },
  },
];
export default suite;
