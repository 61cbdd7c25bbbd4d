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
import { findSdk, hasCommand } from '../tools/moddable/sdk.js';
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
