// The TUF repository over HTTPS: FetchPort (whole metadata files) and
// RangeFetchPort (chunks of targets, HTTP Range) on the HttpPort, every
// exchange under the core's own deadline (shared/http-deadline.ts).
//
// URLs are paths on the one configured repository host (`/tuf/metadata/1.root.json`);
// an absolute `https://<host>[:<port>]/...` naming that same host and port is
// accepted too, anything else (another host, another scheme) is refused
// before a byte is sent: the device talks to the repository it was given, and
// TUF's signatures, not the URL, are what protect the content.
//
// Every answer is data: a status other than the ones below, a body that is
// not bytes, a Content-Range that does not match what was asked, or more
// bytes than asked all reject (counted in `stats`), never throw out of the
// port's callback.
import type { HttpPort, HttpResponse, TimerPort } from '../ports.js';
import { DEFAULT_HTTP_DEADLINE_MS, MAX_HTTP_DEADLINE_MS, requestWithDeadline } from '../shared/http-deadline.js';
import { utf8Bytes } from '../shared/utf8.js';
import { readHttpAnswer, type HttpAnswer } from '../shared/http-answer.js';
import type { FetchPort, RangeFetchPort } from './ports.js';

/** `code` of an HttpPort error for an answer larger than the port holds (src/ports.ts). */
export const PORT_TOO_LARGE = 'too-large';

/** Longest URL path (after encoding) this fetcher sends. */
export const MAX_REPOSITORY_PATH_BYTES = 1024;

export interface HttpRepositoryFetchOptions {
  http: HttpPort;
  timer: TimerPort;
  /** Repository host (as sent in Host and checked against absolute URLs). */
  host: string;
  /** Default 443. */
  port?: number;
  /** Deadline of one exchange (default DEFAULT_HTTP_DEADLINE_MS, at most MAX_HTTP_DEADLINE_MS). */
  deadlineMs?: number;
}

/** What the fetcher saw, for health and tests. */
export interface HttpRepositoryFetchStats {
  requests: number;
  /** 403/404: the repository does not have the file. */
  notFound: number;
  /** Answers refused: unexpected status, bad Content-Range, not bytes. */
  malformed: number;
  /** Bodies longer than the caller's bound. */
  overLimit: number;
  /** Exchanges that hit their deadline. */
  deadlines: number;
  /** Port errors (network, TLS). */
  network: number;
  /** URLs refused before sending (other host, bad characters, too long). */
  badUrls: number;
}

export class HttpFetchError extends Error {
  override name = 'HttpFetchError';
  constructor(
    readonly code: 'bad-url' | 'status' | 'malformed' | 'over-limit' | 'deadline' | 'network',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** RFC 3986 pchar plus `/` and `%` (an escape already made by the caller is kept). */
function isPathByte(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x30 && b <= 0x39) ||
    b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e || // unreserved
    b === 0x21 || b === 0x24 || b === 0x26 || b === 0x27 || b === 0x28 || b === 0x29 || b === 0x2a || b === 0x2b || b === 0x2c || b === 0x3b || b === 0x3d || // sub-delims
    b === 0x3a || b === 0x40 || b === 0x2f || b === 0x25
  );
}

const HEX = '0123456789ABCDEF';

function headerValue(headers: unknown, name: string): string | null {
  if (!Array.isArray(headers)) return null;
  for (const h of headers) {
    if (Array.isArray(h) && typeof h[0] === 'string' && typeof h[1] === 'string' && h[0].toLowerCase() === name) return h[1];
  }
  return null;
}

/** `bytes a-b/total` or `bytes a-b/*`: [a, b, total or -1], or null. */
function parseContentRange(value: string): [number, number, number] | null {
  const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(value.trim());
  if (m === null) return null;
  const a = Number(m[1]);
  const b = Number(m[2]);
  const total = m[3] === '*' ? -1 : Number(m[3]);
  if (b < a || (total >= 0 && b >= total)) return null;
  return [a, b, total];
}

export class HttpRepositoryFetch implements FetchPort, RangeFetchPort {
  readonly stats: HttpRepositoryFetchStats = { requests: 0, notFound: 0, malformed: 0, overLimit: 0, deadlines: 0, network: 0, badUrls: 0 };
  readonly #o: HttpRepositoryFetchOptions;
  readonly #port: number;
  readonly #deadlineMs: number;
  readonly #hostHeader: string;
  readonly #origin: string;

  constructor(options: HttpRepositoryFetchOptions) {
    this.#o = options;
    this.#port = options.port ?? 443;
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_HTTP_DEADLINE_MS;
    if (!(this.#deadlineMs > 0 && this.#deadlineMs <= MAX_HTTP_DEADLINE_MS)) throw new RangeError(`deadlineMs must be in (0, ${MAX_HTTP_DEADLINE_MS}]`);
    if (typeof options.host !== 'string' || options.host.length === 0) throw new RangeError('host is required');
    this.#hostHeader = this.#port === 443 ? options.host : `${options.host}:${this.#port}`;
    this.#origin = `https://${this.#hostHeader}`;
  }

  /** The wire path of `url`, percent-encoded where needed; throws HttpFetchError 'bad-url'. */
  wirePath(url: string): string {
    let path = url;
    if (typeof path === 'string' && path.startsWith('https://')) {
      const rest = path.slice(this.#origin.length);
      path = path.startsWith(this.#origin) && rest.startsWith('/') ? rest : '';
      // `https://host` + `:443` spelled out is the same origin.
      if (path === '' && this.#port === 443 && url.startsWith(`${this.#origin}:443/`)) path = url.slice(this.#origin.length + 4);
    }
    if (typeof path !== 'string' || !path.startsWith('/')) {
      this.stats.badUrls++;
      throw new HttpFetchError('bad-url', 'not a path on the repository host');
    }
    let bytes: Uint8Array;
    try {
      bytes = utf8Bytes(path);
    } catch {
      this.stats.badUrls++;
      throw new HttpFetchError('bad-url', 'not valid UTF-16');
    }
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      out += isPathByte(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
      if (out.length > MAX_REPOSITORY_PATH_BYTES) {
        this.stats.badUrls++;
        throw new HttpFetchError('bad-url', `path over ${MAX_REPOSITORY_PATH_BYTES} bytes`);
      }
    }
    return out;
  }

  #get(url: string, range: string | null): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      let path: string;
      try {
        path = this.wirePath(url);
      } catch (e) {
        reject(e);
        return;
      }
      const headers: Array<[string, string]> = [['host', this.#hostHeader]];
      if (range !== null) headers.push(['range', range]);
      this.stats.requests++;
      const req = { method: 'GET', host: this.#o.host, port: this.#port, path, headers, body: null };
      try {
        requestWithDeadline(this.#o.http, this.#o.timer, req, this.#deadlineMs, (error, response) => {
          if (error !== null || response === null) {
            const code = (error as { code?: unknown } | null)?.code;
            if (code === 'deadline') {
              this.stats.deadlines++;
              reject(new HttpFetchError('deadline', `no answer within ${this.#deadlineMs} ms`));
            } else if (code === PORT_TOO_LARGE) {
              // The port stopped reading an answer bigger than it holds: over any bound of ours too.
              this.stats.overLimit++;
              reject(new HttpFetchError('over-limit', 'answer larger than the HTTP port holds'));
            } else {
              this.stats.network++;
              reject(new HttpFetchError('network', 'request failed'));
            }
            return;
          }
          resolve(response);
        });
      } catch {
        this.stats.network++;
        reject(new HttpFetchError('network', 'request could not start'));
      }
    });
  }

  /** Status and body of an answer, or a rejection reason; reads each field once (a getter may throw). */
  #read(response: HttpResponse): HttpAnswer {
    const answer = readHttpAnswer(response);
    if (answer === null) {
      this.stats.malformed++;
      throw new HttpFetchError('malformed', 'answer is not a status and a body');
    }
    return answer;
  }

  async fetch(url: string, maxBytes: number): Promise<Uint8Array | null> {
    if (!(Number.isInteger(maxBytes) && maxBytes >= 0)) throw new RangeError('maxBytes must be a non-negative integer');
    const { status, body } = this.#read(await this.#get(url, null));
    if (status === 403 || status === 404) {
      this.stats.notFound++;
      return null;
    }
    if (status !== 200) {
      this.stats.malformed++;
      throw new HttpFetchError('status', `HTTP ${status}`);
    }
    if (body.length > maxBytes) {
      this.stats.overLimit++;
      throw new HttpFetchError('over-limit', `body over ${maxBytes} bytes`);
    }
    return body;
  }

  async fetchRange(url: string, offset: number, length: number): Promise<Uint8Array | null> {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) throw new RangeError('offset and length must be non-negative integers');
    if (length === 0) return new Uint8Array(0);
    const last = offset + length - 1;
    const { status, headers, body } = this.#read(await this.#get(url, `bytes=${offset}-${last}`));
    if (status === 403 || status === 404) {
      this.stats.notFound++;
      return null;
    }
    // Range Not Satisfiable: the offset is at or past the end: no bytes left.
    if (status === 416) return new Uint8Array(0);
    if (status === 200) {
      // A server that ignores Range sends the whole file: usable only when it is what was asked.
      if (offset !== 0 || body.length > length) {
        this.stats.overLimit++;
        throw new HttpFetchError('over-limit', 'whole file sent for a range');
      }
      return body;
    }
    if (status !== 206) {
      this.stats.malformed++;
      throw new HttpFetchError('status', `HTTP ${status}`);
    }
    const range = headerValue(headers, 'content-range');
    const parsed = range === null ? null : parseContentRange(range);
    // Fewer bytes than asked only when the file ends there (the total says so).
    const short = parsed !== null && parsed[1] < last && parsed[2] !== parsed[1] + 1;
    if (parsed === null || parsed[0] !== offset || parsed[1] > last || short || body.length !== parsed[1] - parsed[0] + 1) {
      this.stats.malformed++;
      throw new HttpFetchError('malformed', 'Content-Range does not match the range asked or the body');
    }
    return body;
  }
}
