// TLS refusals on the Moddable simulator: the real agent firmware against the
// dev cloud (tools/moddable/sim-agent.ts) when the server must NOT be
// trusted. Each case: no credentials issued, nothing delivered, and the log
// says why the connection failed. Needs $MODDABLE, xvfb-run and stdbuf
// (skips with the reason otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSdk, hasCommand } from '../tools/moddable/sdk.js';
import { runSimAgent, type SimAgentOptions } from '../tools/moddable/sim-agent.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const found = findSdk();
const skip = typeof found === 'string' ? found : !hasCommand('xvfb-run') ? 'xvfb-run is not installed' : !hasCommand('stdbuf') ? 'stdbuf is not installed' : false;
/** Long enough for time sync and three credential attempts (the first one ~2 s after start). */
const RUN_TIMEOUT_MS = 15_000;

function refusedRun(extra: Partial<SimAgentOptions>) {
  return runSimAgent({ project: root, outputDir: join(tmpdir(), 'aws-device-agent-mcconfig'), wantMessages: 1, timeoutMs: RUN_TIMEOUT_MS, ...extra });
}

/** This machine's name when it resolves to loopback (where the dev cloud listens) and is not one its certificate names. */
async function loopbackAlias(): Promise<string | null> {
  const name = hostname().toLowerCase();
  if (name === 'localhost' || !/^[a-z0-9-]{1,63}$/.test(name)) return null;
  try {
    const { address } = await lookup(name, { family: 4 });
    return address === '127.0.0.1' ? name : null;
  } catch {
    return null;
  }
}
const alias = await loopbackAlias();

test('a host name the server certificate does not name is refused', { skip: skip || (alias ? false : `this machine's name does not resolve to 127.0.0.1`) }, async () => {
  const r = await refusedRun({ endpointHost: alias! });
  assert.equal(r.messages, 0, r.simulatorOutput);
  assert.equal(r.credentialsIssued, 0);
  assert.match(r.simulatorOutput, new RegExp(`tls: refused ${alias}: the server certificate does not name ${alias}`));
  assert.match(r.simulatorOutput, new RegExp(`http: connection to ${alias}:\\d+ failed`));
  assert.match(r.simulatorOutput, /time: system clock set from the secure clock/, 'time was trusted: the refusal is not a date problem');
});

test("a chain to a root that is not the provisioned anchor (another dev cloud's) is refused", { skip }, async () => {
  const r = await refusedRun({ foreignTrustAnchor: true });
  assert.equal(r.messages, 0, r.simulatorOutput);
  assert.equal(r.credentialsIssued, 0);
  assert.match(r.simulatorOutput, /tls: refused localhost: the chain does not reach a trust anchor/);
  assert.match(r.simulatorOutput, /http: connection to localhost:\d+ failed/);
});

test('a self-made leaf for the right name in front of the real intermediate and root is refused', { skip }, async () => {
  // The SDK's own check (8.2.3) accepted this chain: every handshake completed.
  const r = await refusedRun({ credentialsChain: 'forged-leaf' });
  assert.equal(r.chainServerHandshakes, 0, `the firmware completed a handshake with the forged chain\n${r.simulatorOutput.slice(-3000)}`);
  assert.match(r.simulatorOutput, /tls: refused localhost: certificate 0 is not signed by certificate 1/);
  assert.match(r.simulatorOutput, /http: connection to localhost:\d+ failed/);
});
