// HttpPort over the SDK's legacy `http` Request, on SecureSocket with the
// device identity for mutual TLS (the IoT credentials provider and HTTPS
// publish both need it). Every request is TLS, whatever the port (the dev
// cloud serves TLS on 8443/8444): `tls: false` exists only for tests against
// plain local servers.
//
// Bounds: at most `maxInFlight` requests at once (the credentials client and
// the uploader share this port), each collecting its response body into its
// own preallocated buffer of `maxResponseBytes`; a larger response (by
// Content-Length or by what arrives) is cut off and reported with the code
// the HttpPort contract names, 'too-large' (the TUF fetcher counts it as
// over-limit, not as a network failure). A request beyond `maxInFlight` is
// refused (HTTP_LIMIT), not queued. At most `maxHeaders` response headers
// are kept. No deadline here: the core bounds each exchange with its own
// timer and cancel()s it, which closes the request and frees its slot.
// The SDK adds `Connection: close` and, when we did not sign one,
// `content-length`; both are outside the SigV4 signed headers.
import { Request } from 'http';
import type { HeaderList, HttpExchange, HttpPort, HttpRequest, HttpResponse } from '../../ports.js';
import { copyToArrayBuffer } from './copy-bytes.js';
import { ModdableError } from './errors.js';
import { secureOptions, VerifyingSecureSocket, type TlsDebug, type TlsIdentity } from './tls.js';

export const HTTP_DEFAULT_MAX_RESPONSE_BYTES = 8192;
export const HTTP_DEFAULT_MAX_HEADERS = 32;
export const HTTP_DEFAULT_MAX_IN_FLIGHT = 2;
/** Largest request-body fragment written at once (well under a 16 KiB TLS record). */
export const HTTP_MAX_FRAGMENT_BYTES = 2048;

export interface ModdableHttpOptions {
  identity: TlsIdentity | null;
  /** The only certificates a server chain may lead to (DER; tls.ts). */
  trustAnchors: readonly ArrayBuffer[];
  /** Where a failed connection is reported (the agent's log). */
  log?: (line: string) => void;
  /** Largest response body accepted (default HTTP_DEFAULT_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** Most response headers kept (default HTTP_DEFAULT_MAX_HEADERS). */
  maxHeaders?: number;
  /** Most requests at once (default HTTP_DEFAULT_MAX_IN_FLIGHT). */
  maxInFlight?: number;
  /** ALPN protocol to offer, e.g. "x-amzn-http-ca" for HTTPS publish on 443. */
  alpn?: string;
  /** Default true. */
  tls?: boolean;
  /** Bring-up switches (simulator only). */
  tlsDebug?: TlsDebug;
}

type Callback = (error: Error | null, response: HttpResponse | null) => void;

export class ModdableHttp implements HttpPort {
  private readonly identity: TlsIdentity | null;
  private readonly trustAnchors: readonly ArrayBuffer[];
  private readonly log: (line: string) => void;
  private readonly maxHeaders: number;
  private readonly alpn: string | undefined;
  /** Response buffers of the free request slots (maxInFlight in all); a request takes one and gives it back. */
  private readonly free: Uint8Array[];
  private readonly tls: boolean;
  private readonly tlsDebug: TlsDebug;
  constructor(options: ModdableHttpOptions) {
    this.identity = options.identity;
    this.trustAnchors = options.trustAnchors;
    this.log = options.log ?? ((): void => {});
    this.maxHeaders = options.maxHeaders ?? HTTP_DEFAULT_MAX_HEADERS;
    this.alpn = options.alpn;
    this.tls = options.tls ?? true;
    this.tlsDebug = options.tlsDebug ?? {};
    const slots = options.maxInFlight ?? HTTP_DEFAULT_MAX_IN_FLIGHT;
    this.free = [];
    for (let i = 0; i < slots; i++) this.free.push(new Uint8Array(options.maxResponseBytes ?? HTTP_DEFAULT_MAX_RESPONSE_BYTES));
  }

  request(req: HttpRequest, callback: Callback): HttpExchange {
    const body = this.free.pop();
    if (!body) {
      callback(new ModdableError('HTTP_LIMIT', 'too many requests in flight'), null);
      return NO_EXCHANGE;
    }
    const headers: string[] = [];
    for (const [name, value] of req.headers) headers.push(name, value);
    const dictionary: Record<string, unknown> = {
      host: req.host,
      port: req.port,
      path: req.path,
      method: req.method,
      headers,
    };
    // The body goes out in fragments no larger than the socket says it can
    // take (Request.requestFragment): handing SecureSocket the whole body at
    // once fails for bodies larger than its write space. The SDK adds no
    // content-length for a fragmented body, so we add it (unsigned) if the
    // caller did not sign one.
    const outgoing = req.body && req.body.length > 0 ? req.body : null;
    if (outgoing) {
      dictionary.body = true;
      let hasLength = false;
      for (const [name] of req.headers) if (name.toLowerCase() === 'content-length') hasLength = true;
      if (!hasLength) headers.push('content-length', String(outgoing.length));
    }
    if (this.tls) {
      dictionary.Socket = VerifyingSecureSocket;
      dictionary.trustAnchors = this.trustAnchors;
      dictionary.secure = secureOptions(this.identity, this.alpn, this.tlsDebug);
    }
    let request: Request;
    try {
      request = new Request(dictionary);
    } catch {
      this.free.push(body);
      callback(new ModdableError('NETWORK', `cannot connect to ${req.host}:${req.port}`), null);
      return NO_EXCHANGE;
    }
    return this.collect(request, body, outgoing, `${req.host}:${req.port}`, callback);
  }

  private collect(request: Request, body: Uint8Array, outgoing: Uint8Array | null, target: string, callback: Callback): HttpExchange {
    let sentBytes = 0;
    const received: HeaderList = [];
    let status = 0;
    let length = 0;
    let finished = false;
    const release = (): boolean => {
      if (finished) return false;
      finished = true;
      this.free.push(body);
      try {
        request.close();
      } catch {
        // already closed by the SDK
      }
      return true;
    };
    const finish = (error: Error | null, response: HttpResponse | null): void => {
      if (release()) callback(error, response);
    };
    const self = this;
    request.callback = function (message: number, value?: unknown, extra?: unknown): ArrayBuffer | undefined {
      if (message === Request.requestFragment) {
        if (!outgoing || sentBytes >= outgoing.length) return undefined;
        const room = Math.max(1, Math.min(Number(value) || 0, HTTP_MAX_FRAGMENT_BYTES));
        const n = Math.min(room, outgoing.length - sentBytes);
        const chunk = copyToArrayBuffer(outgoing, sentBytes, n);
        sentBytes += n;
        return chunk;
      }
      if (message === Request.status) status = Number(value);
      else if (message === Request.header) {
        const name = String(value);
        if (received.length >= self.maxHeaders) {
          finish(new ModdableError('HTTP_LIMIT', `more than ${self.maxHeaders} response headers`), null);
          return undefined;
        }
        if (name === 'content-length' && Number(extra) > body.length) {
          finish(new ModdableError('too-large', `response body of ${Number(extra)} bytes exceeds ${body.length}`), null);
          return undefined;
        }
        received.push([name, String(extra)]);
      } else if (message === Request.responseFragment) {
        const chunk = new Uint8Array(request.read(ArrayBuffer) as ArrayBuffer);
        if (length + chunk.length > body.length) {
          finish(new ModdableError('too-large', `response body exceeds ${body.length} bytes`), null);
          return undefined;
        }
        body.set(chunk, length);
        length += chunk.length;
      } else if (message === Request.responseComplete) {
        finish(null, { status, headers: received, body: body.slice(0, length) });
      } else if (message < 0) {
        if (!finished) self.log(`http: connection to ${target} failed (DNS, TCP or TLS)`);
        finish(new ModdableError('NETWORK', 'connection failed (DNS, TCP or TLS)'), null);
      }
      return undefined;
    };
    return { cancel: () => void release() };
  }
}

const NO_EXCHANGE: HttpExchange = Object.freeze({ cancel(): void {} });
