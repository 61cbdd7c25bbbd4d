// The real agent firmware in the Moddable simulator against the dev cloud and
// three local SNTP servers (tools/moddable/sim-agent.ts): secure time over the
// Moddable UDP adapter, credentials over Moddable mutual TLS, then SigV4-signed
// HTTPS publishes that the dev cloud's verifier accepts. Needs a Moddable SDK
// ($MODDABLE), xvfb-run and stdbuf; skips with the reason otherwise (CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { LIBFAKETIME, findSdk, hasCommand } from '../tools/moddable/sdk.js';
import { runSimAgent } from '../tools/moddable/sim-agent.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const found = findSdk();
const skip = typeof found === 'string' ? found : !hasCommand('xvfb-run') ? 'xvfb-run is not installed' : !hasCommand('stdbuf') ? 'stdbuf is not installed' : false;
/** Bound on the simulator run once built (time sync + credentials + 3 publishes take ~10 s). */
const RUN_TIMEOUT_MS = 90_000;

test('the agent in the simulator delivers signed telemetry to the dev cloud', { skip }, async () => {
  const r = await runSimAgent({
    project: root,
    outputDir: join(tmpdir(), 'aws-device-agent-mcconfig'),
    wantMessages: 3,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  assert.ok(r.ok, `${r.verdict}\n${r.simulatorOutput.slice(-4000)}`);
  assert.match(r.simulatorOutput, /time: SYNCED/);
  assert.match(r.simulatorOutput, /time: system clock set from the secure clock/);
  assert.match(r.simulatorOutput, /credentials: \{"kind":"refreshed"/);
  assert.ok(r.messages >= 3);
});

test('the agent in the simulator delivers over MQTT-over-WSS (Moddable WebSocket adapter), TLS verified', { skip }, async () => {
  const r = await runSimAgent({
    project: root,
    outputDir: join(tmpdir(), 'aws-device-agent-mcconfig'),
    wantMessages: 3,
    timeoutMs: RUN_TIMEOUT_MS,
    transport: 'mqtt',
  });
  assert.ok(r.ok, `${r.verdict}\n${r.simulatorOutput.slice(-4000)}`);
  assert.match(r.simulatorOutput, /time: system clock set from the secure clock/);
  assert.match(r.simulatorOutput, /mqtt to localhost/);
});

test('starting at 1970 (libfaketime), the agent opens TLS only after SNTP sync sets the clock, then delivers', { skip: skip || (existsSync(LIBFAKETIME) ? false : `no libfaketime at ${LIBFAKETIME} (Debian package faketime)`) }, async () => {
  const r = await runSimAgent({ project: root, outputDir: join(tmpdir(), 'aws-device-agent-mcconfig'), wantMessages: 2, timeoutMs: RUN_TIMEOUT_MS, startAt1970: true });
  assert.ok(r.ok, `${r.verdict}\n${r.simulatorOutput.slice(-4000)}`);
  const out = r.simulatorOutput;
  assert.match(out, /sim-clock: wall clock was 1970-01-02T/, 'the simulator really started at 1970');
  const synced = out.indexOf('time: SYNCED');
  const set = out.indexOf('time: system clock set from the secure clock');
  const firstTls = Math.min(...[/SSL: /, /credentials: \{/, /tls: refused/, /http: connection/].map((re) => out.search(re)).filter((i) => i >= 0));
  assert.ok(synced >= 0 && set > synced, 'the clock is set after SNTP sync');
  assert.ok(firstTls > set, 'no TLS connection before the clock is set');
  assert.doesNotMatch(out, /date validation failed|tls: refused/);
});
