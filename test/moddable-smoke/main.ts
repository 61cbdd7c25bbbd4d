// Smoke test firmware: exercises each Moddable adapter on the target and
// traces one line per check, then `SMOKE PASS n` or `SMOKE FAIL <check>`.
// test/moddable-build.test.ts builds it (test/moddable-smoke/manifest.json, its
// own firmware: the production manifest never carries it) for the simulator
// and reads the trace. It is the `main` module there, so it imports the
// adapters by module name. Expected values come from first principles
// (FIPS 180-2 test vectors, round trips), never from this code's own output.
import UDP from 'embedded:io/socket/udp';
import config from 'mc/config';
import Timer from 'timer';
import { boardConfig } from 'platform/moddable/board-config';
import { ModdableError } from 'platform/moddable/errors';
import { FileFlash } from 'platform/moddable/flash/file';
import { ModdableHttp } from 'platform/moddable/http';
import { PreferenceKeyValue } from 'platform/moddable/preference-kv';
import { ModdableRandom } from 'platform/moddable/random';
import { CryptSha256 } from 'platform/moddable/sha256';
import { ModdableTicks } from 'platform/moddable/ticks';
import { ModdableTimers } from 'platform/moddable/timer';
import { ModdableUdp } from 'platform/moddable/udp';

/** Loopback port of the echo socket (mc/config `smokeUdpPort` overrides). */
const SMOKE_UDP_PORT = 47123;
/** How long the UDP round trip may take before the smoke test fails. */
const SMOKE_UDP_TIMEOUT_MS = 3000;
/** How long the three HTTP exchanges may take together. */
const SMOKE_HTTP_TIMEOUT_MS = 10000;
/** The adapter's response buffer in this check: /small fits, /big and /endless do not. */
const SMOKE_HTTP_MAX_RESPONSE_BYTES = 1024;

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return s;
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/** Counts passed checks; one per run of the smoke test. */
class Tally {
  passed = 0;
  check(name: string, ok: boolean): void {
    trace(`SMOKE ${ok ? 'ok' : 'FAILED'} ${name}\n`);
    if (!ok) throw new Error(name);
    this.passed++;
  }
}

function syncChecks(tally: Tally): void {
  const check = (name: string, ok: boolean): void => tally.check(name, ok);
  const board = boardConfig();
  trace(`SMOKE board ${board.name}\n`);

  const ticks = new ModdableTicks({ wrapBits: board.tickWrapBits });
  const t0 = ticks.ticks();
  Timer.delay(20);
  const elapsed = ticks.ticks() - t0;
  check('ticks advance across a 20 ms delay', elapsed >= 19 && elapsed < 1000);

  // FIPS 180-2 appendix B.1 and B.2 vectors.
  const sha = new CryptSha256();
  const out = new Uint8Array(40);
  sha.reset();
  sha.update(ascii('xxabcxx'), 2, 5);
  sha.finish(out, 4);
  check('sha256("abc")', hex(out.subarray(4, 36)) === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const msg = ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
  sha.reset();
  sha.update(msg, 0, 10);
  sha.update(msg, 10, msg.length);
  sha.finish(out, 0);
  check('sha256 of 448-bit message in two parts', hex(out.subarray(0, 32)) === '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');

  const kv = new PreferenceKeyValue({ domain: board.preferenceDomain, maxValueBytes: board.preferenceMaxValueBytes });
  const stamp = String(t0 % 100000);
  kv.set('smoke', stamp);
  check('preference round trip', kv.get('smoke') === stamp);
  let limited = false;
  try {
    kv.set('a_key_longer_than_15', 'x');
  } catch (e) {
    limited = e instanceof ModdableError && e.code === 'PREFERENCE_LIMIT';
  }
  check('preference key over 15 chars rejected', limited);

  const storage = board.storage;
  if (storage.kind === 'file') {
    const flash = new FileFlash({ path: 'agent-smoke-flash.bin', blockSize: storage.blockSize, blockCount: 4 });
    const buf = new Uint8Array(8);
    flash.erase(1);
    flash.read(flash.blockSize, buf, 0, 8);
    check('erased flash reads 0xFF', buf.every((b) => b === 0xff));
    flash.write(flash.blockSize + 3, ascii('abcdef'), 1, 4);
    flash.read(flash.blockSize, buf, 0, 8);
    check('flash write lands at its offset', hex(buf) === 'ffffff62636465ff');
    let ranged = false;
    try {
      flash.read(flash.blockSize * 4 - 2, buf, 0, 4);
    } catch (e) {
      ranged = e instanceof ModdableError && e.code === 'FLASH_RANGE';
    }
    check('flash read past the end rejected', ranged);
  }

  const random = new ModdableRandom({ hardware: board.randomIsHardware });
  const r = new Uint8Array(32);
  random.fill(r);
  check('random fills bytes', r.some((b) => b !== 0));
}

function udpCheck(done: (ok: boolean) => void): void {
  const port = Number((config as Record<string, unknown>).smokeUdpPort ?? SMOKE_UDP_PORT);
  const echo = new UDP({
    port,
    onReadable(packets: number) {
      for (let i = 0; i < packets; i++) {
        const p = this.read();
        this.write(p, p.address, p.port);
      }
    },
  });
  const timers = new ModdableTimers();
  const socket = new ModdableUdp().open();
  const finish = (ok: boolean): void => {
    socket.close();
    (echo as unknown as { close(): void }).close();
    done(ok);
  };
  const timeout = timers.set(() => finish(false), SMOKE_UDP_TIMEOUT_MS);
  socket.onReceive = (bytes, address, from) => {
    timers.clear(timeout);
    finish(hex(bytes) === hex(ascii('ping')) && address === '127.0.0.1' && from === port);
  };
  socket.send(ascii('ping'), '127.0.0.1', port);
}

/**
 * ModdableHttp against the host's plain loopback server (mc/config
 * `smokeHttpPort`): a small answer arrives whole; an answer over the buffer,
 * announced by Content-Length (/big) or streamed without one (/endless), is
 * an error with the HttpPort contract's code 'too-large', never a cut body.
 */
function httpCheck(tally: Tally, done: (ok: boolean) => void): void {
  const port = Number((config as Record<string, unknown>).smokeHttpPort ?? 0);
  const http = new ModdableHttp({ identity: null, trustAnchors: [], tls: false, maxResponseBytes: SMOKE_HTTP_MAX_RESPONSE_BYTES, maxInFlight: 1 });
  const timers = new ModdableTimers();
  let over = false;
  const timeout = timers.set(() => {
    over = true;
    done(false);
  }, SMOKE_HTTP_TIMEOUT_MS);
  const get = (path: string, then: (error: Error | null, status: number, body: string) => void): void => {
    http.request({ method: 'GET', host: '127.0.0.1', port, path, headers: [['host', '127.0.0.1']], body: null }, (error, response) => {
      if (over) return;
      let text = '';
      if (response) for (let i = 0; i < response.body.length; i++) text += String.fromCharCode(response.body[i]!);
      then(error, response ? response.status : 0, text);
    });
  };
  const code = (e: Error | null): unknown => (e as { code?: unknown } | null)?.code;
  // Tally.check throws on a failed check; inside the SDK's callback that must end the check instead.
  const passes = (name: string, ok: boolean): boolean => {
    try {
      tally.check(name, ok);
      return true;
    } catch {
      timers.clear(timeout);
      done(false);
      return false;
    }
  };
  get('/small', (e1, status, body) => {
    if (!passes('http: a small answer arrives whole', e1 === null && status === 200 && body === 'smoke-http-ok')) return;
    get('/big', (e2) => {
      if (!passes("http: an answer over the buffer by Content-Length is 'too-large'", code(e2) === 'too-large')) return;
      get('/endless', (e3) => {
        if (!passes("http: a streamed answer over the buffer is 'too-large'", code(e3) === 'too-large')) return;
        timers.clear(timeout);
        done(true);
      });
    });
  });
}

export default function main(): void {
  const tally = new Tally();
  try {
    syncChecks(tally);
  } catch (e) {
    trace(`SMOKE FAIL ${e instanceof Error ? e.message : 'exception'}\n`);
    return;
  }
  udpCheck((ok) => {
    if (!ok) {
      trace('SMOKE FAILED udp echo round trip\nSMOKE FAIL udp\n');
      return;
    }
    tally.check('udp echo round trip', true);
    httpCheck(tally, (httpOk) => {
      if (!httpOk) {
        trace('SMOKE FAIL http\n');
        return;
      }
      trace(`SMOKE PASS ${tally.passed}\n`);
    });
  });
}
