// Randomness on the Moddable simulator: two runs of the same agent firmware
// must not send the same SNTP nonces or the same TLS client randoms (before
// the native random port, both came from libc rand(), never seeded, and every
// run repeated them). Seen on the wire: relays in front of the first time
// server and the credentials provider (tools/moddable/sim-agent.ts
// captureRandomness). Needs $MODDABLE, xvfb-run and stdbuf (skips otherwise).
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
const RUN_TIMEOUT_MS = 60_000;

const run = () => runSimAgent({ project: root, outputDir: join(tmpdir(), 'aws-device-agent-mcconfig'), wantMessages: 1, timeoutMs: RUN_TIMEOUT_MS, captureRandomness: true });

test('two simulator runs send different SNTP nonces and different TLS client randoms', { skip }, async () => {
  const a = await run();
  const b = await run();
  for (const r of [a, b]) {
    assert.ok(r.ok, `${r.verdict}\n${r.simulatorOutput.slice(-3000)}`);
    assert.match(r.simulatorOutput, /random: TLS generator and rand\(\) reseeded from getrandom/);
    assert.ok(r.sntpNonces.length >= 1 && r.clientRandoms.length >= 1, `captured ${r.sntpNonces.length} nonces, ${r.clientRandoms.length} randoms`);
    assert.doesNotMatch(r.simulatorOutput, /DEVELOPMENT MODE/, 'the simulator runs in production mode now');
  }
  const nonceSet = new Set(a.sntpNonces);
  assert.ok(b.sntpNonces.every((n) => !nonceSet.has(n)), `a nonce repeated across runs: ${a.sntpNonces[0]} / ${b.sntpNonces[0]}`);
  // TLS 1.2 client random: 4 bytes of time, then 28 random bytes; only the latter must differ.
  const tail = (hex: string): string => hex.slice(8);
  const randomSet = new Set(a.clientRandoms.map(tail));
  assert.ok(b.clientRandoms.every((r) => !randomSet.has(tail(r))), `a TLS client random repeated across runs: ${a.clientRandoms[0]} / ${b.clientRandoms[0]}`);
});
