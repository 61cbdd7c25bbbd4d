// The TUF repository over the HttpPort (src/update/http-fetch.ts): paths on
// one host, HTTP Range for target chunks, and every answer treated as data.
import type { PortableSuite } from '../harness/portable.js';
import { rejection } from '../harness/portable.js';
import { ManualTimer } from '../harness/fakes.js';
import { ScriptedHttp, header, response } from '../harness/scripted-http.js';
import { HttpRepositoryFetch } from '../../src/update/http-fetch.js';
import type { HttpRequest } from '../../src/ports.js';
import { utf8Bytes } from '../../src/shared/utf8.js';

const code = (e: unknown): unknown => (e as { code?: unknown } | null)?.code;

const FILE = utf8Bytes('0123456789abcdefghij'); // 20 bytes

/** A server that honours Range on /t/file like RFC 9110 says. */
function rangeServer(req: HttpRequest) {
  if (req.path !== '/t/file') return response(404);
  const r = header(req, 'range');
  if (r === null) return response(200, FILE);
  const m = /^bytes=(\d+)-(\d+)$/.exec(r)!;
  const a = Number(m[1]);
  if (a >= FILE.length) return response(416, '', [['Content-Range', `bytes */${FILE.length}`]]);
  const b = Math.min(Number(m[2]), FILE.length - 1);
  return response(206, FILE.slice(a, b + 1), [['Content-Range', `bytes ${a}-${b}/${FILE.length}`]]);
}

const suite: PortableSuite = () => [
  {
    name: 'fetch: GET of a path on the repository host; 200 is the file, 403/404 are null, other statuses reject',
    async run(t) {
      const timer = new ManualTimer();
      let status = 200;
      const http = new ScriptedHttp(() => response(status, 'hello'));
      const f = new HttpRepositoryFetch({ http, timer, host: 'repo.example', port: 8443 });
      const got = await f.fetch('/tuf/metadata/1.root.json', 100);
      t.deepEqual(got, utf8Bytes('hello'));
      const req = http.requests[0]!;
      t.equal(req.method, 'GET');
      t.equal(req.host, 'repo.example');
      t.equal(req.port, 8443);
      t.equal(req.path, '/tuf/metadata/1.root.json');
      t.equal(header(req, 'host'), 'repo.example:8443');
      t.equal(header(req, 'range'), null, 'metadata is fetched whole');
      status = 404;
      t.equal(await f.fetch('/tuf/metadata/2.root.json', 100), null);
      status = 403;
      t.equal(await f.fetch('/tuf/metadata/2.root.json', 100), null);
      t.equal(f.stats.notFound, 2);
      for (const s of [500, 503, 301, 206, 416]) {
        status = s;
        t.equal(code(await rejection(f.fetch('/x', 100))), 'status', `HTTP ${s}`);
      }
      t.equal(timer.size, 0, 'no deadline timer left behind');
    },
  },
  {
    name: 'fetch: a body over maxBytes rejects (counted), one at the bound is accepted',
    async run(t) {
      const http = new ScriptedHttp(() => response(200, new Uint8Array(10)));
      const f = new HttpRepositoryFetch({ http, timer: new ManualTimer(), host: 'h' });
      t.equal((await f.fetch('/a', 10))!.length, 10);
      t.equal(code(await rejection(f.fetch('/a', 9))), 'over-limit');
      t.equal(f.stats.overLimit, 1);
    },
  },
  {
    name: 'URLs: an absolute https URL on the same host and port is its path; another host, scheme or a relative URL is refused before sending',
    async run(t) {
      const http = new ScriptedHttp(() => response(200, 'x'));
      const f = new HttpRepositoryFetch({ http, timer: new ManualTimer(), host: 'repo.example', port: 8443 });
      await f.fetch('https://repo.example:8443/tuf/targets/a.json', 10);
      t.equal(http.requests[0]!.path, '/tuf/targets/a.json');
      for (const bad of ['https://evil.example:8443/x', 'https://repo.example/x', 'https://repo.example:84430/x', 'http://repo.example:8443/x', 'tuf/x', '', 'https://repo.example:8443']) {
        t.equal(code(await rejection(f.fetch(bad, 10))), 'bad-url', bad);
      }
      t.equal(http.requests.length, 1, 'nothing sent for a refused URL');
      const d = new HttpRepositoryFetch({ http, timer: new ManualTimer(), host: 'repo.example' });
      await d.fetch('https://repo.example/a', 10);
      await d.fetch('https://repo.example:443/b', 10);
      t.deepEqual([http.requests[1]!.path, http.requests[2]!.path], ['/a', '/b']);
      t.equal(header(http.requests[1]!, 'host'), 'repo.example', 'no :443 in Host');
    },
  },
  {
    name: 'URLs: bytes outside the path characters are percent-encoded (no space, CR or LF reaches the request line)',
    async run(t) {
      const http = new ScriptedHttp(() => response(200, 'x'));
      const f = new HttpRepositoryFetch({ http, timer: new ManualTimer(), host: 'h' });
      await f.fetch('/tuf/targets/a b\r\nX: y/é?q#f', 10);
      t.equal(http.requests[0]!.path, '/tuf/targets/a%20b%0D%0AX:%20y/%C3%A9%3Fq%23f');
    },
  },
  {
    name: 'fetchRange: sends Range bytes=a-b and accepts the matching 206, a short last chunk and 416 past the end',
    async run(t) {
      const http = new ScriptedHttp(rangeServer);
      const f = new HttpRepositoryFetch({ http, timer: new ManualTimer(), host: 'h' });
      t.deepEqual(await f.fetchRange('/t/file', 4, 6), utf8Bytes('456789'));
      t.equal(header(http.requests[0]!, 'range'), 'bytes=4-9');
      t.deepEqual(await f.fetchRange('/t/file', 16, 8), utf8Bytes('ghij'), 'the file ends first: fewer bytes');
      t.deepEqual(await f.fetchRange('/t/file', 20, 8), new Uint8Array(0), '416: nothing left');
      t.equal(await f.fetchRange('/t/missing', 0, 8), null);
      t.deepEqual(await f.fetchRange('/t/file', 3, 0), new Uint8Array(0), 'zero bytes asks nothing');
      t.equal(http.requests.length, 4);
    },
  },
  {
    name: 'fetchRange: a 200 (Range ignored) is accepted only at offset 0 when the whole file fits',
    async run(t) {
      const http = new ScriptedHttp(() => response(200, FILE));
      const f = new HttpRepositoryFetch({ http, timer: new ManualTimer(), host: 'h' });
      t.deepEqual(await f.fetchRange('/t/file', 0, 20), FILE);
      t.deepEqual(await f.fetchRange('/t/file', 0, 4096), FILE);
      t.ok(await rejection(f.fetchRange('/t/file', 0, 19)), 'whole file longer than asked');
      t.ok(await rejection(f.fetchRange('/t/file', 4, 16)), 'whole file for a later chunk');
    },
  },
  {
    name: 'fetchRange: a 206 whose Content-Range or body does not match what was asked rejects',
    async run(t) {
      let answer = response(206, FILE.slice(0, 4), [['Content-Range', 'bytes 0-3/20']]);
      const http = new ScriptedHttp(() => answer);
      const f = new HttpRepositoryFetch({ http, timer: new ManualTimer(), host: 'h' });
      t.deepEqual(await f.fetchRange('/t', 0, 4), FILE.slice(0, 4), 'the matching answer is accepted');
      const bad: Array<[string, Array<[string, string]>, Uint8Array]> = [
        ['no Content-Range', [], FILE.slice(0, 4)],
        ['another start', [['Content-Range', 'bytes 1-4/20']], FILE.slice(1, 5)],
        ['more than asked', [['Content-Range', 'bytes 0-7/20']], FILE.slice(0, 8)],
        ['body shorter than its range', [['Content-Range', 'bytes 0-3/20']], FILE.slice(0, 3)],
        ['body longer than its range', [['Content-Range', 'bytes 0-3/20']], FILE.slice(0, 5)],
        ['short, not at the end of the file', [['Content-Range', 'bytes 0-1/20']], FILE.slice(0, 2)],
        ['short, total unknown', [['Content-Range', 'bytes 0-1/*']], FILE.slice(0, 2)],
        ['end before start', [['Content-Range', 'bytes 3-0/20']], FILE.slice(0, 4)],
        ['garbage', [['Content-Range', 'bytes=0-3']], FILE.slice(0, 4)],
      ];
      for (const [what, headers, body] of bad) {
        answer = response(206, body, headers);
        t.ok(await rejection(f.fetchRange('/t', 0, 4)), what);
      }
      t.equal(f.stats.malformed, bad.length);
    },
  },
  {
    name: 'a hung server: the deadline rejects and cancels the exchange at the port; a port error or a malformed answer rejects, nothing throws',
    async run(t) {
      const timer = new ManualTimer();
      let mode: 'hang' | 'error' | 'junk' | 'throw' = 'hang';
      const http = new ScriptedHttp(() => {
        if (mode === 'hang') return 'hang';
        if (mode === 'error') return new Error('ECONNRESET');
        if (mode === 'throw') throw new Error('port bug');
        return { status: 'OK', headers: null, body: 'text' } as never;
      });
      const f = new HttpRepositoryFetch({ http, timer, host: 'h', deadlineMs: 1000 });
      const p = rejection(f.fetch('/a', 10));
      timer.advance(999);
      t.equal(http.cancelled, 0);
      timer.advance(1);
      t.equal(code(await p), 'deadline');
      t.equal(http.cancelled, 1);
      t.equal(f.stats.deadlines, 1);
      mode = 'error';
      t.equal(code(await rejection(f.fetchRange('/a', 0, 4))), 'network');
      mode = 'throw';
      t.equal(code(await rejection(f.fetch('/a', 10))), 'network');
      mode = 'junk';
      t.equal(code(await rejection(f.fetch('/a', 10))), 'malformed');
      t.equal(code(await rejection(f.fetchRange('/a', 0, 4))), 'malformed');
      t.equal(timer.size, 0);
    },
  },
  {
    name: "a port error coded 'too-large' (an answer bigger than the port holds: endless data) is over-limit, counted as such, not a network failure",
    async run(t) {
      const timer = new ManualTimer();
      const http = new ScriptedHttp(() => Object.assign(new Error('response over 262144 bytes'), { code: 'too-large' }));
      const f = new HttpRepositoryFetch({ http, timer, host: 'h' });
      t.equal(code(await rejection(f.fetch('/tuf/metadata/timestamp.json', 16384))), 'over-limit');
      t.equal(code(await rejection(f.fetchRange('/tuf/targets/a', 0, 4096))), 'over-limit');
      t.equal(f.stats.overLimit, 2);
      t.equal(f.stats.network, 0);
      t.equal(timer.size, 0);
    },
  },
];

export default suite;
