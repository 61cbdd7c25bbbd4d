// Every HTTP exchange the core starts has a deadline kept by the core's own
// timer, so no adapter (a half-open TLS connection, a server that never
// answers) can hold a request slot or a caller's state forever. At the
// deadline the exchange is cancelled at the port and the caller gets a
// `deadline` error; whichever comes first wins and the other is ignored.
import type { HttpExchange, HttpPort, HttpRequest, HttpResponse, TimerPort } from '../ports.js';

/** Default deadline for one request/response exchange. */
export const DEFAULT_HTTP_DEADLINE_MS = 20_000;
/** Longest deadline accepted (a wait longer than this is a wedge by another name). */
export const MAX_HTTP_DEADLINE_MS = 300_000;

export class HttpDeadlineError extends Error {
  override name = 'HttpDeadlineError';
  readonly code = 'deadline';
}

export type HttpCallback = (error: Error | null, response: HttpResponse | null) => void;

/**
 * Starts `req` on `http` with a deadline. `callback` runs exactly once
 * (response, port error, a throwing port, or the deadline), never after
 * the returned exchange is cancelled.
 */
export function requestWithDeadline(http: HttpPort, timer: TimerPort, req: HttpRequest, deadlineMs: number, callback: HttpCallback): HttpExchange {
  if (!(deadlineMs > 0 && deadlineMs <= MAX_HTTP_DEADLINE_MS)) throw new RangeError(`deadline must be in (0, ${MAX_HTTP_DEADLINE_MS}] ms`);
  let done = false;
  let exchange: HttpExchange | null = null;
  let handle: unknown = null;
  const settle = (error: Error | null, response: HttpResponse | null): void => {
    if (done) return;
    done = true;
    if (handle !== null) timer.clear(handle);
    handle = null;
    callback(error, response);
  };
  const cancelAtPort = (): void => {
    const x = exchange;
    exchange = null;
    if (x === null) return;
    try {
      x.cancel();
    } catch {
      // the port failed to cancel: nothing more the core can do, and its answer is ignored anyway
    }
  };
  handle = timer.set(() => {
    handle = null;
    if (done) return;
    cancelAtPort();
    settle(new HttpDeadlineError(`no answer within ${deadlineMs} ms`), null);
  }, deadlineMs);
  try {
    const x = http.request(req, (error, response) => {
      if (error === null && (response === null || typeof response !== 'object')) settle(new Error('port gave neither error nor response'), null);
      else settle(error, error === null ? response : null);
    });
    if (done) {
      // answered synchronously
    } else exchange = x ?? null;
  } catch (e) {
    settle(e instanceof Error ? e : new Error('http port threw'), null);
  }
  return {
    cancel(): void {
      if (done) return;
      done = true;
      if (handle !== null) timer.clear(handle);
      handle = null;
      cancelAtPort();
    },
  };
}
