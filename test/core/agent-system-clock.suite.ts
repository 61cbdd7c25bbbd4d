// The agent and a platform system clock (SystemClockPort): on a board, TLS
// checks certificate dates against a clock that starts at 1970, so the agent
// sets it from the secure clock (midpoint of a SYNCED reading, never from an
// untrusted clock), again after each round that ends SYNCED (it follows a
// recovery), and, when the port says TLS needs it, opens no HTTP exchange
// before the first set. Whole agent in the simulated world (test/harness/sim/).
// Portable: runs on Node and XS.
import type { Check, PortableSuite } from '../harness/portable.js';
import { Agent } from '../../src/agent.js';
import type { HttpExchange, HttpPort, HttpRequest, HttpResponse, KeyValuePort, SystemClockPort } from '../../src/ports.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { SimCloud } from '../harness/sim/cloud.js';
import { SimScheduler, SimStrongRandom } from '../harness/sim/scheduler.js';

const EPOCH_MS = Date.UTC(2026, 2, 3, 9, 0, 0);
const THING = 'clock-device-1';
const TIME_SERVERS = ['10.0.1.1', '10.0.1.2', '10.0.1.3'];
const CREDS_HOST = 'c2clock.credentials.iot.us-east-1.amazonaws.com';
const DATA_HOST = 'aclock-ats.iot.us-east-1.amazonaws.com';

class Kv implements KeyValuePort {
  private readonly map: Record<string, string> = {};
  get(key: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.map, key) ? this.map[key] : undefined;
  }
  set(key: string, value: string): void {
    this.map[key] = value;
  }
}

interface SetRecord {
  atMs: number;
  unixMs: number;
  state: string;
  mid: number;
  bound: number;
}

class World {
  readonly scheduler = new SimScheduler();
  readonly cloud: SimCloud;
  readonly agent: Agent;
  readonly sets: SetRecord[] = [];
  /** Simulated time of each HTTP request, and how many system clock sets preceded it. */
  readonly requests: { atMs: number; setsBefore: number; host: string }[] = [];
  failNextSets = 0;

  constructor(seed: number, requiredBeforeTls: boolean | null, transport: 'https' | 'mqtt' = 'https') {
    const s = this.scheduler;
    this.cloud = new SimCloud({
      scheduler: s,
      seed,
      epochMs: EPOCH_MS,
      timeServers: TIME_SERVERS,
      credentialsHost: CREDS_HOST,
      dataHost: DATA_HOST,
      thingName: THING,
      roleAlias: 'clock-role-alias',
      topics: { telemetry: `dt/${THING}/telemetry`, security: `dt/${THING}/security` },
      credentialLifetimeMs: 20 * 60_000,
      maxSeq: 1 << 12,
    });
    const inner = this.cloud.http;
    const http: HttpPort = {
      request: (req: HttpRequest, cb: (e: Error | null, r: HttpResponse | null) => void): HttpExchange => {
        this.requests.push({ atMs: s.nowMs, setsBefore: this.sets.length, host: req.host });
        return inner.request(req, cb);
      },
    };
    const world = this;
    const systemClock: SystemClockPort = {
      requiredBeforeTls: requiredBeforeTls === true,
      set(unixMs: number): void {
        if (world.failNextSets > 0) {
          world.failNextSets--;
          throw new Error('RTC busy');
        }
        const t = world.agent.clock.now();
        world.sets.push({ atMs: s.nowMs, unixMs, state: t.state, mid: (t.earliest + t.latest) / 2, bound: t.bound });
      },
    };
    this.agent = new Agent(
      {
        ticks: s,
        timers: s,
        random: new SimStrongRandom(seed ^ 0x51c0),
        udp: this.cloud.udp,
        http,
        websocket: this.cloud.websocket,
        flash: new MemoryFlash({ blockSize: 4096, blockCount: 24 }),
        kv: new Kv(),
        log: () => {},
        ...(requiredBeforeTls === null ? {} : { systemClock }),
      },
      {
        thingName: THING,
        region: 'us-east-1',
        roleAlias: 'clock-role-alias',
        dataEndpoint: { host: DATA_HOST, port: 443 },
        credentialsEndpoint: { host: CREDS_HOST, port: 443 },
        timeServers: TIME_SERVERS,
        transport,
        sampleIntervalMs: 5000,
        buildTimeMs: EPOCH_MS - 30 * 86_400_000,
        minSources: 2,
        securityBlocks: 4,
      },
    );
  }

  start(): void {
    this.scheduler.guard('agent.start', () => this.agent.start());
  }

  runFor(ms: number): void {
    this.scheduler.runUntil(this.scheduler.nowMs + ms);
  }

  trueNow(): number {
    return EPOCH_MS + this.scheduler.nowMs;
  }
}

function checkSetsTrusted(t: Check, w: World): void {
  for (const r of w.sets) {
    t.equal(r.state, 'SYNCED', `system clock set at t=${r.atMs} from a ${r.state} clock`);
    t.ok(Math.abs(r.unixMs - r.mid) <= 1, `set ${r.unixMs} is the secure clock's midpoint ${r.mid}`);
    // The world's true time at that instant; the clock's interval contains it.
    t.ok(Math.abs(r.unixMs - (EPOCH_MS + r.atMs)) <= r.bound + 1, `set ${r.unixMs} within ±${r.bound} ms of true time ${EPOCH_MS + r.atMs}`);
  }
}

const suite: PortableSuite = () => [
  {
    name: 'system clock: set from the SYNCED midpoint, and no HTTP request before it when the port requires it; data still delivered',
    run(t) {
      const w = new World(11, true);
      w.start();
      w.runFor(5 * 60_000);
      t.ok(w.sets.length >= 1, 'the system clock was set');
      checkSetsTrusted(t, w);
      t.ok(w.requests.length > 0, 'the agent went on to TLS after the set');
      t.equal(w.requests.filter((r) => r.setsBefore === 0).length, 0, 'no HTTP request before the first set');
      const st = w.agent.status();
      t.ok(st.networkStarted && st.systemClockSets === w.sets.length, `status: ${st.systemClockSets} sets, network ${st.networkStarted}`);
      t.ok(st.health.acked > 0, `records delivered after the set (acked ${st.health.acked})`);
      t.equal(w.scheduler.escapes, 0, 'nothing escaped a port callback');
    },
  },
  {
    name: 'system clock: never set while time is untrusted, and (when required) no HTTP request at all meanwhile',
    run(t) {
      const w = new World(12, true);
      w.cloud.faults.ntpBlocked = true;
      w.start();
      w.runFor(10 * 60_000);
      t.equal(w.agent.clock.now().state, 'UNTRUSTED', 'time never became trusted');
      t.equal(w.sets.length, 0, 'no set from an untrusted clock');
      t.equal(w.requests.length, 0, 'no TLS request before trusted time');
      t.equal(w.agent.status().networkStarted, false, 'status says the network waits');
      // Control: without the requirement (virtual device) credentials are fetched at once, before time is trusted.
      const v = new World(12, false);
      v.cloud.faults.ntpBlocked = true;
      v.start();
      v.runFor(60_000);
      t.ok(v.requests.length > 0 && v.sets.length === 0, `port without requirement: ${v.requests.length} requests before any set`);
    },
  },
  {
    name: 'system clock: set again after a disruption recovers (SNTP blocked, then back), only from SYNCED readings',
    run(t) {
      const w = new World(13, true);
      w.start();
      w.runFor(3 * 60_000);
      const before = w.sets.length;
      t.ok(before >= 1, 'set once synced');
      w.cloud.faults.ntpBlocked = true;
      w.runFor(40 * 60_000);
      const blockedAt = w.scheduler.nowMs;
      w.cloud.faults.ntpBlocked = false;
      w.runFor(20 * 60_000);
      const after = w.sets.filter((r) => r.atMs > blockedAt);
      t.ok(after.length >= 1, `set again after recovery (${after.length} sets after SNTP came back)`);
      checkSetsTrusted(t, w);
      t.equal(w.scheduler.escapes, 0, 'nothing escaped a port callback');
    },
  },
  {
    name: 'system clock: a set that throws is counted and retried after the next round; TLS keeps waiting until one succeeds',
    run(t) {
      const w = new World(14, true);
      w.failNextSets = 1;
      w.start();
      // The next round comes one poll interval (about 17 min) later.
      w.runFor(40 * 60_000);
      const st = w.agent.status();
      t.equal(st.systemClockErrors, 1, 'the failed set is counted');
      t.ok(w.sets.length >= 1, 'a later round set it');
      t.equal(w.requests.filter((r) => r.setsBefore === 0).length, 0, 'no HTTP request before the first successful set');
      t.equal(w.scheduler.escapes, 0, 'the throwing port did not escape');
    },
  },
  {
    name: 'system clock: MQTT transport waits too (no WebSocket/credentials before the set)',
    run(t) {
      const w = new World(15, true, 'mqtt');
      w.start();
      w.runFor(5 * 60_000);
      t.ok(w.sets.length >= 1, 'set');
      t.equal(w.requests.filter((r) => r.setsBefore === 0).length, 0, 'no HTTP request before the first set');
      t.ok(w.agent.status().health.acked > 0, 'delivered over MQTT after the set');
    },
  },
];

export default suite;
