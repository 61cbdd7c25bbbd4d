// Configuration validation: the shared validators (src/shared/validate.ts),
// parseAgentConfig, the credentials client's identity checks, and the
// agent's refusal of a weak random port outside development mode.
// Expected answers come from the AWS documentation (thing names
// [a-zA-Z0-9:_-]{1,128}, role aliases [\w=,@-]{1,128}, topics <= 256 bytes
// of UTF-8 without wildcards) and from RFC 1035 / dotted-quad IPv4, written
// here independently of the code under test.
import type { Check, PortableSuite } from '../harness/portable.js';
import { Agent, AgentError, parseAgentConfig } from '../../src/agent.js';
import { CredentialsClient } from '../../src/credentials/client.js';
import { CredentialsError } from '../../src/credentials/errors.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { FakeClock, FixedRandom, ManualTicks, ManualTimer, MemoryKeyValue, ScriptedUdp, SeededRandom } from '../harness/fakes.js';
import * as v from '../../src/shared/validate.js';
import type { HttpExchange, HttpPort } from '../../src/ports.js';

const BUILD_TIME = Date.UTC(2026, 10, 22);

function valid(): Record<string, unknown> {
  return {
    thingName: 'dev-1',
    region: 'us-east-1',
    roleAlias: 'telemetry-role',
    dataEndpoint: { host: 'a1b2c3-ats.iot.us-east-1.amazonaws.com', port: 443 },
    credentialsEndpoint: { host: 'c2abc.credentials.iot.us-east-1.amazonaws.com' },
    timeServers: ['192.0.2.1', '192.0.2.2:1123', '198.51.100.7'],
    buildTimeMs: BUILD_TIME,
  };
}

function withField(path: string, value: unknown): Record<string, unknown> {
  const c = valid();
  const keys = path.split('.');
  let o = c as Record<string, unknown>;
  for (let i = 0; i < keys.length - 1; i++) {
    o[keys[i]!] = { ...(o[keys[i]!] as Record<string, unknown>) };
    o = o[keys[i]!] as Record<string, unknown>;
  }
  if (value === undefined) delete o[keys[keys.length - 1]!];
  else o[keys[keys.length - 1]!] = value;
  return c;
}

/** The message of the AgentError parseAgentConfig throws, or null when it accepts. */
function refusal(config: unknown): string | null {
  try {
    parseAgentConfig(config);
    return null;
  } catch (e) {
    if (!(e instanceof AgentError) || e.code !== 'bad-config') throw e;
    return e.message;
  }
}

function refusedAt(t: Check, config: unknown, path: string, why: RegExp | null, label: string): void {
  const message = refusal(config);
  t.ok(message !== null, `${label}: refused`);
  t.equal(message!.slice(0, path.length + 2), `${path}: `, `${label}: names ${path} (got ${message})`);
  if (why) t.ok(why.test(message!), `${label}: says why (got ${message})`);
}

// Oracles written from the AWS documentation, not from src/shared.
const AWS_THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const AWS_ROLE_ALIAS = /^[A-Za-z0-9_=,@-]{1,128}$/;

/** Credentials client construction with a given thing name and role alias: true when accepted. */
function credentialsAccept(thingName: string, roleAlias = 'telemetry-role'): boolean {
  const timer = new ManualTimer();
  try {
    new CredentialsClient({ http: new SilentHttp(), host: 'c2abc.credentials.iot.us-east-1.amazonaws.com', roleAlias, thingName, clock: new FakeClock(timer), timer, random: new FixedRandom(0) });
    return true;
  } catch (e) {
    if (e instanceof CredentialsError && e.code === 'bad-config') return false;
    throw e;
  }
}

/** An HTTP port that never answers (the agent tests do not need the network). */
class SilentHttp implements HttpPort {
  requests = 0;
  request(): HttpExchange {
    this.requests++;
    return { cancel: () => {} };
  }
}

// Generated names: mostly allowed characters, some forbidden ones, lengths around the limits.
const ALLOWED = 'abcxyzABCXYZ0189:_-';
const FORBIDDEN = ['.', ' ', '/', '=', ',', '@', '+', '#', '\u0000', '\u00e9', '\ud83d\ude00', '\ud800'];
function generatedName(r: SeededRandom): string {
  const lengths = [0, 1, 2, 8, 64, 127, 128, 129, 200];
  const n = lengths[r.below(lengths.length)]!;
  let s = '';
  for (let i = 0; i < n; i++) s += ALLOWED[r.below(ALLOWED.length)];
  if (n > 0 && r.below(3) === 0) {
    const at = r.below(n);
    s = s.slice(0, at) + FORBIDDEN[r.below(FORBIDDEN.length)]! + s.slice(at + 1);
  }
  return s;
}

function agentPorts(strong: boolean, lines: string[]) {
  const ticks = new ManualTicks(1000, 0, 5000);
  const timers = new ManualTimer();
  // The test decides whether the port claims strength; the bytes are seeded either way.
  const seeded = new SeededRandom(7);
  const random = { strong, fill: (bytes: Uint8Array) => seeded.fill(bytes) };
  return {
    ports: {
      ticks,
      timers,
      random,
      udp: new ScriptedUdp(),
      http: new SilentHttp(),
      flash: new MemoryFlash({ blockSize: 4096, blockCount: 8 }),
      kv: new MemoryKeyValue(),
      log: (line: string) => lines.push(line),
    },
    ticks,
    timers,
  };
}

const suite: PortableSuite = () => [
  {
    name: 'a valid config is accepted with its defaults',
    run(t) {
      const c = parseAgentConfig(valid());
      t.equal(c.thingName, 'dev-1');
      t.deepEqual(c.dataEndpoint, { host: 'a1b2c3-ats.iot.us-east-1.amazonaws.com', port: 443 });
      t.deepEqual(c.credentialsEndpoint, { host: 'c2abc.credentials.iot.us-east-1.amazonaws.com', port: 443 });
      t.deepEqual(c.timeServers, [
        { address: '192.0.2.1', port: 123 },
        { address: '192.0.2.2', port: 1123 },
        { address: '198.51.100.7', port: 123 },
      ]);
      t.equal(c.telemetryTopic, 'dt/dev-1/telemetry');
      t.equal(c.minSources, 2);
      t.equal(c.developmentMode, false);
      t.equal(parseAgentConfig({ ...valid(), developmentMode: true, minSources: 3 }).developmentMode, true);
      t.equal(parseAgentConfig({ ...valid(), thingName: 'Thing:with_all-128'.padEnd(128, 'x') }).thingName.length, 128);
    },
  },
  {
    name: 'a missing field is "required", named by its whole path',
    run(t) {
      for (const path of ['thingName', 'region', 'roleAlias', 'dataEndpoint', 'credentialsEndpoint', 'timeServers', 'buildTimeMs', 'dataEndpoint.host', 'credentialsEndpoint.host']) {
        refusedAt(t, withField(path, undefined), `config.${path}`, /: required$/, `missing ${path}`);
      }
      refusedAt(t, withField('thingName', ''), 'config.thingName', /: required$/, 'empty thingName');
      refusedAt(t, withField('timeServers', ['192.0.2.1', '', '192.0.2.3']), 'config.timeServers[1]', /: required$/, 'empty time server');
      refusedAt(t, null, 'config', /: required$/, 'no config');
    },
  },
  {
    name: 'minSources must be an integer no larger than the number of time servers',
    run(t) {
      refusedAt(t, { ...valid(), minSources: 4 }, 'config.minSources', /time servers/, '4 of 3');
      refusedAt(t, { ...valid(), timeServers: ['192.0.2.1'] }, 'config.minSources', null, 'default 2 of 1');
      refusedAt(t, { ...valid(), minSources: 1.5 }, 'config.minSources', /integer/, 'fractional');
      refusedAt(t, { ...valid(), securityBlocks: 2.5 }, 'config.securityBlocks', /integer/, 'fractional securityBlocks');
      t.equal(parseAgentConfig({ ...valid(), minSources: 3 }).minSources, 3);
      t.equal(parseAgentConfig({ ...valid(), timeServers: ['192.0.2.1'], minSources: 1 }).minSources, 1);
    },
  },
  {
    name: 'time servers are IPv4[:port] exactly, named by index, and distinct',
    run(t) {
      const bad = ['1.2.3.4:123:999', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:+12', '1.2.3.4:1e2', '1.2.3.256', '1.2.3', '1.2.3.4.5', '01.2.3.4', 'time.aws.com', ' 1.2.3.4', '::1', 'a.b.c.d'];
      for (const s of bad) refusedAt(t, withField('timeServers', ['192.0.2.1', '192.0.2.2', s]), 'config.timeServers[2]', null, s);
      refusedAt(t, withField('timeServers', ['192.0.2.1', 1234]), 'config.timeServers[1]', null, 'a number');
      refusedAt(t, withField('timeServers', ['192.0.2.1', '192.0.2.2', '192.0.2.1:123']), 'config.timeServers[2]', /timeServers\[0\]/, 'the same server twice');
      t.equal(parseAgentConfig(withField('timeServers', ['127.0.0.1:1231', '127.0.0.1:1232'])).timeServers.length, 2, 'one address, two ports');
      refusedAt(t, withField('timeServers', []), 'config.timeServers', null, 'none');
      refusedAt(t, withField('timeServers', '192.0.2.1'), 'config.timeServers', null, 'not a list');
      t.deepEqual(parseAgentConfig(withField('timeServers', ['0.0.0.1:65535', '255.255.255.255:1'])).timeServers, [
        { address: '0.0.0.1', port: 65535 },
        { address: '255.255.255.255', port: 1 },
      ]);
    },
  },
  {
    name: 'endpoints: host names by RFC 1035 and integer ports, errors at .host / .port',
    run(t) {
      for (const p of [0, 65536, 443.5, '443', -1]) refusedAt(t, withField('dataEndpoint.port', p), 'config.dataEndpoint.port', null, `port ${String(p)}`);
      for (const h of ['a..b', '-a.example.com', 'a-.example.com', 'a_b.example.com', 'example.com.', 'x'.repeat(64) + '.com', 'host:443', 'h\u00e9.com', 42]) {
        refusedAt(t, withField('credentialsEndpoint.host', h), 'config.credentialsEndpoint.host', null, `host ${String(h)}`);
      }
      const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`; // 253
      t.equal(parseAgentConfig(withField('dataEndpoint.host', long)).dataEndpoint.host, long);
      refusedAt(t, withField('dataEndpoint.host', `${long}e`), 'config.dataEndpoint.host', null, '254 characters');
      t.deepEqual(parseAgentConfig(withField('dataEndpoint', 'localhost:8443')).dataEndpoint, { host: 'localhost', port: 8443 });
      refusedAt(t, withField('dataEndpoint', 'localhost:84x3'), 'config.dataEndpoint.port', null, 'text port');
      refusedAt(t, withField('dataEndpoint', 7), 'config.dataEndpoint', null, 'number');
    },
  },
  {
    name: 'topics: at most 256 bytes of UTF-8 and 7 slashes, no wildcard, no NUL, no lone surrogate',
    run(t) {
      const refused = ['a/#', 'a/+/b', 'a\u0000b', 'x'.repeat(257), '\u00e9'.repeat(129), 'a\ud800b', 'a\udc00', 'a/b/c/d/e/f/g/h/i'];
      for (const s of refused) refusedAt(t, withField('telemetryTopic', s), 'config.telemetryTopic', null, `topic of ${s.length} chars`);
      refusedAt(t, withField('securityTopic', 'dt/#'), 'config.securityTopic', null, 'security wildcard');
      for (const s of ['x'.repeat(256), '\u00e9'.repeat(128), '\ud83d\ude00'.repeat(64), 'dt/dev-1/t\u00e9l\u00e9m\u00e9trie', 'a/b/c/d/e/f/g/h']) {
        t.equal(parseAgentConfig(withField('telemetryTopic', s)).telemetryTopic, s, `accepted: ${s.length} chars`);
      }
    },
  },
  {
    name: 'identity fields: thing name without ".", role alias, region, enums, booleans',
    run(t) {
      for (const s of ['dev.1', 'dev 1', 'dev/1', 'x'.repeat(129), 'd\u00e9v']) refusedAt(t, withField('thingName', s), 'config.thingName', /A-Za-z0-9:_-/, `thing ${s.slice(0, 10)}`);
      for (const s of ['role.alias', 'role+alias', 'role alias', 'x'.repeat(129)]) refusedAt(t, withField('roleAlias', s), 'config.roleAlias', null, `alias ${s.slice(0, 10)}`);
      t.equal(parseAgentConfig(withField('roleAlias', 'Role_=,@-1')).roleAlias, 'Role_=,@-1');
      for (const s of ['US-EAST-1', 'us-east', 'useast1', 'us-east-1 ', 'local']) refusedAt(t, withField('region', s), 'config.region', null, `region ${s}`);
      t.equal(parseAgentConfig(withField('region', 'us-gov-west-1')).region, 'us-gov-west-1');
      refusedAt(t, withField('transport', 'udp'), 'config.transport', null, 'transport');
      refusedAt(t, withField('publishService', 'iot'), 'config.publishService', null, 'publishService');
      refusedAt(t, withField('developmentMode', 'yes'), 'config.developmentMode', null, 'developmentMode');
      refusedAt(t, withField('sampleIntervalMs', 5), 'config.sampleIntervalMs', null, 'sampleIntervalMs');
    },
  },
  {
    name: 'the credentials client and the agent config give the same answer for a thing name (generated names)',
    run(t) {
      const r = new SeededRandom(0x7a11);
      let accepted = 0;
      let refused = 0;
      for (let i = 0; i < 400; i++) {
        const name = generatedName(r);
        const expected = AWS_THING_NAME.test(name);
        const config = refusal(withField('thingName', name)) === null;
        t.equal(config, expected, `config on ${JSON.stringify(name)}`);
        t.equal(credentialsAccept(name), expected, `credentials client on ${JSON.stringify(name)}`);
        t.equal(v.isThingName(name), expected, `isThingName on ${JSON.stringify(name)}`);
        if (expected) accepted++;
        else refused++;
      }
      t.ok(accepted > 50 && refused > 50, `both answers exercised (${accepted} accepted, ${refused} refused)`);
      for (const alias of ['role.alias', 'role+alias', 'a=b,c@d-e_f', '', 'x'.repeat(128), 'x'.repeat(129)]) {
        const expected = AWS_ROLE_ALIAS.test(alias);
        t.equal(refusal(withField('roleAlias', alias)) === null, expected, `config on alias ${alias.slice(0, 12)}`);
        t.equal(credentialsAccept('dev-1', alias), expected, `credentials client on alias ${alias.slice(0, 12)}`);
      }
    },
  },
  {
    name: 'the agent refuses a random port that is not cryptographically strong',
    run(t) {
      const lines: string[] = [];
      const { ports } = agentPorts(false, lines);
      t.throws(
        () => new Agent(ports, valid()),
        (e) => e instanceof AgentError && e.code === 'weak-random' && /developmentMode/.test(e.message),
        'weak random without development mode',
      );
    },
  },
  {
    name: 'config.update without a signature verifier port is refused at construction (no update path that cannot verify)',
    run(t) {
      const { ports } = agentPorts(true, []);
      const config = { ...valid(), update: { hardwareModel: 'vdevice', channel: 'prod', rootJson: '{}' } };
      t.throws(
        () => new Agent(ports, config),
        (e) => e instanceof AgentError && e.code === 'unsupported' && /signature verifier/.test(e.message),
        'update config, no verifier port',
      );
    },
  },
  {
    name: 'development mode accepts a weak random port, with a warning at boot and in status()',
    run(t) {
      const lines: string[] = [];
      const { ports } = agentPorts(false, lines);
      const agent = new Agent(ports, { ...valid(), developmentMode: true });
      t.ok(
        lines.some((l) => /WARNING/.test(l) && /DEVELOPMENT MODE/.test(l) && /not cryptographically strong/i.test(l)),
        `a warning line at boot (got ${JSON.stringify(lines)})`,
      );
      t.equal(agent.status().developmentMode, true);

      const strongLines: string[] = [];
      const strong = new Agent(agentPorts(true, strongLines).ports, valid());
      t.equal(strong.status().developmentMode, false);
      t.ok(!strongLines.some((l) => /DEVELOPMENT MODE/.test(l)), 'no warning for a strong port in production mode');
    },
  },
  {
    name: 'the agent logs when the uploader starts holding data back, without status() being called',
    run(t) {
      const lines: string[] = [];
      const { ports, timers } = agentPorts(true, lines);
      const agent = new Agent(ports, valid());
      agent.start();
      agent.telemetry({ probe: 1 }); // something to send while time is untrusted
      timers.advance(5000);
      const hold = lines.filter((l) => /^uploader: holding data back: /.test(l));
      t.equal(hold.length, 1, `one hold line (got ${JSON.stringify(lines)})`);
      timers.advance(5000);
      t.equal(lines.filter((l) => /^uploader: holding data back: /.test(l)).length, 1, 'logged on change only');
      agent.stop();
    },
  },
];

export default suite;
