// Builds the firmware with a real Moddable SDK and runs it in the Linux
// simulator, when one is installed ($MODDABLE; CI has none, so these tests
// skip there with the reason). The smoke firmware
// (test/moddable-smoke/, its own manifest) checks each adapter on the real XS
// runtime against first-principles values (FIPS 180-2 vectors, round trips)
// and ends with `SMOKE PASS n` or `SMOKE FAIL <check>`.
//
// Builds go to a fixed directory under the OS temp dir so that reruns are
// incremental (a cold lin build takes minutes on a shared 2-core machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFirmware, findSdk, hasCommand, runSimulator, type Sdk } from '../tools/moddable/sdk.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const found = findSdk();
const sdk: Sdk | null = typeof found === 'string' ? null : found;
const noSdk = typeof found === 'string' ? found : false;
const noSimulator = noSdk || (!hasCommand('xvfb-run') ? 'xvfb-run is not installed' : !hasCommand('stdbuf') ? 'stdbuf is not installed' : false);
const outputDir = join(tmpdir(), 'aws-device-agent-mcconfig');

/** A loopback UDP port that was free a moment ago, for the smoke test's echo socket. */
function freeUdpPort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createSocket('udp4');
    s.once('error', fail);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

/**
 * The plain loopback HTTP server of the smoke firmware's HTTP check: /small
 * answers 13 bytes; /big announces 20,000 (over the firmware's 1,024-byte
 * buffer); /endless streams without a length until the client goes away.
 */
function smokeHttpServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/small') res.end('smoke-http-ok');
    else if (req.url === '/big') {
      res.setHeader('content-length', '20000');
      res.end('x'.repeat(20000));
    } else if (req.url === '/endless') {
      const piece = 'y'.repeat(512);
      const pump = (): void => {
        while (!res.destroyed && res.write(piece));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('error', () => {});
      pump();
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({ server, port: (server.address() as { port: number }).port })));
}

test('lin: the smoke firmware builds and passes every check in the simulator', { skip: noSimulator }, async (t) => {
  mkdirSync(outputDir, { recursive: true });
  const port = await freeUdpPort();
  const http = await smokeHttpServer();
  t.after(() => {
    http.server.closeAllConnections();
    http.server.close();
  });
  const build = await buildFirmware({ sdk: sdk!, project: root, manifest: join(root, 'test', 'moddable-smoke', 'manifest.json'), platform: 'lin', outputDir, config: { smokeUdpPort: String(port), smokeHttpPort: String(http.port) } });
  assert.ok(build.ok, `mcconfig failed:\n${build.output.slice(-4000)}`);
  assert.ok(build.simulatorLibrary, 'mc.so was produced');
  const run = await runSimulator(sdk!, build.simulatorLibrary, /SMOKE (PASS \d+|FAIL .*)\n|XS abort/);
  assert.ok(run.verdict, `no verdict from the simulator:\n${run.output.slice(-4000)}`);
  assert.match(run.verdict, /^SMOKE PASS/, run.output);
  const passed = Number(/SMOKE PASS (\d+)/.exec(run.verdict)![1]);
  const okLines = run.output.split('\n').filter((l) => l.startsWith('SMOKE ok ')).length;
  assert.equal(passed, okLines, 'the pass count matches the checks traced');
  assert.ok(passed >= 10, 'every adapter check ran');
  assert.match(run.output, /SMOKE ok http: a streamed answer over the buffer is 'too-large'/, 'the HTTP check ran to its end');
});

test('an ESP32 board without a boards/ configuration fails with our message', { skip: noSdk }, async () => {
  mkdirSync(outputDir, { recursive: true });
  // Fails while reading manifests, before any ESP-IDF tool is needed.
  const build = await buildFirmware({ sdk: sdk!, project: root, platform: 'esp32/m5stack', outputDir, timeoutMs: 120_000 });
  assert.equal(build.ok, false);
  assert.match(build.output, /aws-device-agent: this ESP32 board has no boards\/ configuration/);
});
