// HostTable and AliasedUdp (src/shared/host-table.ts): a time server name that
// does not resolve at boot is retried with capped exponential backoff until it
// does (and the clock then synchronises), a name whose address stops answering
// is re-resolved, resolver faults are counted and never escape, and every
// retry is bounded. Virtual time, scripted resolver and UDP.
import type { PortableSuite } from '../harness/portable.js';
import {
  AliasedUdp,
  HostTable,
  MAX_RESOLVED_HOSTS,
  RESOLVE_BACKOFF_BASE_MS,
  RESOLVE_BACKOFF_CAP_MS,
  UNANSWERED_SENDS_BEFORE_REFRESH,
} from '../../src/shared/host-table.js';
import { SecureClock } from '../../src/time/secure-clock.js';
import { SntpClient } from '../../src/time/sntp-client.js';
import { TimeSync } from '../../src/time/time-sync.js';
import { ManualTicks, ManualTimer, ScriptedResolver, ScriptedUdp, SeededRandom, buildReply } from '../harness/fakes.js';

/** Distinct from every backoff delay drawn here, so the tests can tell timeouts from retries. */
const TIMEOUT_MS = 777;
const HOUR_MS = 3_600_000;
const FLOOR_2026 = 1_767_225_600_000;
const WALL0 = 1_800_000_000_000;

function table(resolver: ScriptedResolver, timers: ManualTimer, hosts: string[], changes: string[] = []): HostTable {
  return new HostTable({ resolver, timers, random: new SeededRandom(11), hosts, timeoutMs: TIMEOUT_MS, onChange: (h, a) => changes.push(`${h}=${a}`) });
}

/** Backoff delays the table asked for, in order (timeouts filtered out). */
function retryDelays(timers: ManualTimer): number[] {
  return timers.delays.filter((d) => d !== TIMEOUT_MS);
}

const suite: PortableSuite = () => [
  {
    name: 'a name that fails at boot is retried with capped exponential backoff until it resolves',
    run(t) {
      const timers = new ManualTimer();
      const dns = new ScriptedResolver(timers).script('pool.example', null, null, null, null, null, '10.0.0.1');
      const changes: string[] = [];
      const h = table(dns, timers, ['pool.example', '10.9.9.9'], changes);
      h.start();
      t.equal(h.address('pool.example'), null);
      t.equal(h.address('10.9.9.9'), '10.9.9.9', 'a literal needs no resolution');
      t.ok(h.settled(), 'the failed first answer settles the boot wait');
      timers.advance(HOUR_MS);
      t.equal(h.address('pool.example'), '10.0.0.1');
      t.equal(dns.count('pool.example'), 6);
      t.equal(dns.count('10.9.9.9'), 0);
      t.deepEqual(changes, ['pool.example=10.0.0.1']);
      const delays = retryDelays(timers);
      t.equal(delays.length, 5);
      delays.forEach((d, k) => t.ok(d >= 0 && d < Math.min(RESOLVE_BACKOFF_CAP_MS, RESOLVE_BACKOFF_BASE_MS * 2 ** k), `retry ${k}: ${d} ms`));
      t.equal(h.stats.failures, 5);
      t.equal(timers.size, 0, 'nothing scheduled once resolved');
    },
  },
  {
    name: 'a name that never resolves is retried forever but boundedly: never above the cap, no pile-up of timers',
    run(t) {
      const timers = new ManualTimer();
      const dns = new ScriptedResolver(timers).script('down.example', null);
      const h = table(dns, timers, ['down.example']);
      h.start();
      timers.advance(24 * HOUR_MS);
      const n = dns.count('down.example');
      t.ok(n > 24 && n < 24 * 60, `${n} queries in a day`);
      t.ok(retryDelays(timers).every((d) => d < RESOLVE_BACKOFF_CAP_MS));
      t.ok(timers.size <= 1, 'one retry pending at most');
      // Connection failures reported meanwhile do not add queries: one resolution at a time.
      for (let i = 0; i < 50; i++) h.reportFailure('down.example');
      t.ok(timers.size <= 1);
      h.stop();
      t.equal(timers.size, 0, 'stop leaves no timer behind');
      timers.advance(HOUR_MS);
      t.equal(dns.count('down.example'), n, 'no query after stop');
    },
  },
  {
    name: 'a silent, throwing or malformed resolver is a counted failure, retried; a late answer is ignored',
    run(t) {
      const timers = new ManualTimer();
      const dns = new ScriptedResolver(timers).script('a.example', 'silent', '10.0.0.7').script('b.example', 'throw', 'not-an-ip', '10.0.0.8');
      const h = table(dns, timers, ['a.example', 'b.example']);
      h.start();
      t.equal(h.address('a.example'), null);
      timers.advance(HOUR_MS);
      t.equal(h.address('a.example'), '10.0.0.7');
      t.equal(h.address('b.example'), '10.0.0.8');
      t.equal(h.stats.thrown, 1);
      t.equal(h.stats.malformed, 1);
      t.equal(h.stats.failures, 3, 'timeout, throw, malformed');
    },
  },
  {
    name: 'over MAX_RESOLVED_HOSTS names is refused',
    run(t) {
      const hosts: string[] = [];
      for (let i = 0; i <= MAX_RESOLVED_HOSTS; i++) hosts.push(`h${i}.example`);
      t.throws(() => table(new ScriptedResolver(), new ManualTimer(), hosts), (e) => e instanceof RangeError);
    },
  },
  {
    name: 'AliasedUdp: an address that stops answering is re-resolved; replies come back under the alias; a failed re-resolution keeps the old address',
    run(t) {
      const timers = new ManualTimer();
      const dns = new ScriptedResolver(timers).script('ntp.example', '10.0.0.1', null, '10.0.0.2');
      const h = table(dns, timers, ['ntp.example']);
      const net = new ScriptedUdp();
      const udp = new AliasedUdp(net, h);
      h.start();
      const alias = AliasedUdp.aliasOf(0);
      const socket = udp.open();
      const got: string[] = [];
      socket.onReceive = (_b, address, port) => got.push(`${address}:${port}`);
      const raw = net.sockets[0]!;
      for (let i = 0; i < UNANSWERED_SENDS_BEFORE_REFRESH; i++) socket.send(new Uint8Array(1), alias, 123);
      t.deepEqual(raw.sent.map((d) => d.address), ['10.0.0.1', '10.0.0.1', '10.0.0.1']);
      t.equal(dns.count('ntp.example'), 1, 're-resolution waits for its backoff delay');
      timers.advance(RESOLVE_BACKOFF_BASE_MS, 1);
      t.equal(dns.count('ntp.example'), 2);
      t.equal(h.address('ntp.example'), '10.0.0.1', 'a failed re-resolution keeps the last good address');
      timers.advance(HOUR_MS);
      t.equal(h.address('ntp.example'), '10.0.0.2');
      socket.send(new Uint8Array(1), alias, 123);
      t.equal(raw.sent[raw.sent.length - 1]!.address, '10.0.0.2');
      raw.deliver(new Uint8Array(1), '10.0.0.2', 123);
      raw.deliver(new Uint8Array(1), '10.0.0.1', 123);
      t.deepEqual(got, [`${alias}:123`, '10.0.0.1:123'], 'only the current address maps back to the alias');
      // Other literals pass through untouched.
      socket.send(new Uint8Array(1), '10.5.5.5', 123);
      t.equal(raw.sent[raw.sent.length - 1]!.address, '10.5.5.5');
    },
  },
  {
    name: 'AliasedUdp: a send before the name resolves is dropped and counted; two names at one address count once',
    run(t) {
      const timers = new ManualTimer();
      const dns = new ScriptedResolver(timers).script('x.example', null, '10.0.0.3').script('y.example', '10.0.0.3');
      const h = table(dns, timers, ['x.example', 'y.example']);
      const net = new ScriptedUdp();
      const udp = new AliasedUdp(net, h);
      h.start();
      const socket = udp.open();
      socket.send(new Uint8Array(1), AliasedUdp.aliasOf(0), 123);
      t.equal(net.sockets[0]!.sent.length, 0);
      t.equal(udp.stats.unresolved, 1);
      timers.advance(HOUR_MS);
      socket.send(new Uint8Array(1), AliasedUdp.aliasOf(0), 123);
      socket.send(new Uint8Array(1), AliasedUdp.aliasOf(1), 123);
      t.equal(net.sockets[0]!.sent.length, 1, 'the second name is the same server');
      t.equal(udp.stats.duplicate, 1);
    },
  },
  {
    name: 'AliasedUdp: literal time servers on one address (other ports) keep their literal in replies, and the clock synchronises',
    run(t) {
      const ticks = new ManualTicks(1000, 0, 0);
      const timers = new ManualTimer(ticks);
      // As the Moddable adapter builds it: literals passed as themselves, names as aliases.
      const hosts = ['127.0.0.1', '127.0.0.1', '127.0.0.1'];
      const h = new HostTable({ resolver: new ScriptedResolver(timers), timers, random: new SeededRandom(3), hosts });
      const net = new ScriptedUdp();
      net.onSend = (socket, d) => {
        const t2 = WALL0 + ticks.raw + 5;
        timers.set(() => socket.deliver(buildReply(d.bytes, { receiveMs: t2, transmitMs: t2 }), d.address, d.port), 10);
      };
      const udp = new AliasedUdp(net, h);
      h.start();
      const probe = udp.open();
      const got: string[] = [];
      probe.onReceive = (_b, address, port) => got.push(`${address}:${port}`);
      net.sockets[0]!.deliver(new Uint8Array(1), '127.0.0.1', 1235);
      t.deepEqual(got, ['127.0.0.1:1235'], 'the reply comes back from the address queried');
      const clock = new SecureClock({ ticks, buildTimeMs: FLOOR_2026 });
      const servers = [1231, 1232, 1233].map((port) => ({ address: '127.0.0.1', port }));
      const sntp = new SntpClient({ udp, timers, random: new SeededRandom(5), clock, servers, timeoutMs: 1000, attempts: 2, retryJitterMs: 100 });
      const sync = new TimeSync({ sntp, timers, random: new SeededRandom(6), pollIntervalMs: 1_024_000, retryMs: 4000 });
      sync.start();
      timers.advance(5000);
      t.equal(clock.now().state, 'SYNCED');
      sync.stop();
      h.stop();
    },
  },
  {
    name: 'end to end: DNS down at boot, the clock still synchronises once the names resolve',
    run(t) {
      const ticks = new ManualTicks(1000, 0, 0);
      const timers = new ManualTimer(ticks);
      const names = ['a.pool.example', 'b.pool.example', 'c.pool.example'];
      const dns = new ScriptedResolver(timers);
      names.forEach((n, i) => dns.script(n, null, null, null, `10.1.0.${i + 1}`));
      const h = new HostTable({ resolver: dns, timers, random: new SeededRandom(3), hosts: names });
      const net = new ScriptedUdp();
      net.onSend = (socket, d) => {
        const t2 = WALL0 + ticks.raw + 5;
        timers.set(() => socket.deliver(buildReply(d.bytes, { receiveMs: t2, transmitMs: t2 }), d.address, d.port), 10);
      };
      const clock = new SecureClock({ ticks, buildTimeMs: FLOOR_2026 });
      const servers = names.map((_, i) => ({ address: AliasedUdp.aliasOf(i), port: 123 }));
      const sntp = new SntpClient({ udp: new AliasedUdp(net, h), timers, random: new SeededRandom(5), clock, servers, timeoutMs: 1000, attempts: 2, retryJitterMs: 100 });
      const sync = new TimeSync({ sntp, timers, random: new SeededRandom(6), pollIntervalMs: 1_024_000, retryMs: 4000 });
      h.start();
      sync.start();
      timers.advance(1000);
      t.ok(clock.now().state !== 'SYNCED', 'no server resolved yet');
      timers.advance(HOUR_MS);
      t.equal(clock.now().state, 'SYNCED');
      t.ok(net.sockets.every((s) => s.sent.every((d) => d.address.startsWith('10.1.0.'))), 'only real addresses reach the network');
      sync.stop();
      h.stop();
    },
  },
];

export default suite;
