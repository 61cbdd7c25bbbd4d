// Classifies an AWS IoT HTTPS publish answer into what the uploader does.
// AWS answers skew and expired tokens with 403 and a JSON message, e.g.
//   {"message":"Signature expired: 20260101T000000Z is now earlier than ..."}
//   {"message":"Signature not yet current: ... is still later than ..."}
//   {"message":"The security token included in the request is expired"}
// (SigV4 error texts shared by AWS services; the code names RequestTimeTooSkewed
// and ExpiredToken are matched too.) Only a bounded prefix of the body is read.
import type { SendOutcome } from './deps.js';

/** How much of an error body is examined. */
export const MAX_ERROR_BODY_SCAN = 512;

function lowerAscii(body: Uint8Array): string {
  const n = Math.min(body.length, MAX_ERROR_BODY_SCAN);
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = body[i]!;
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c < 0x80 ? c : 0x3f);
  }
  return s;
}

export function classifyHttpAnswer(status: number, body: Uint8Array): SendOutcome {
  if (status >= 200 && status <= 299) return { kind: 'ack' };
  if (status === 429) return { kind: 'retry', reason: 'http-429' };
  if (status >= 500 && status <= 599) return { kind: 'retry', reason: `http-${status}` };
  if (status === 408) return { kind: 'retry', reason: 'http-408' };
  if (status === 400 || status === 401 || status === 403) {
    const text = lowerAscii(body);
    // Skew is our clock's fault, whatever the status: never dead-letter for it.
    if (
      text.indexOf('signature expired') >= 0 ||
      text.indexOf('signature not yet current') >= 0 ||
      text.indexOf('requesttimetooskewed') >= 0 ||
      text.indexOf('request time') >= 0
    ) {
      return { kind: 'skew', reason: `http-${status}` };
    }
    if (text.indexOf('expiredtoken') >= 0 || (text.indexOf('token') >= 0 && text.indexOf('expired') >= 0)) {
      return { kind: 'expired-token', reason: `http-${status}` };
    }
    if (status !== 400) return { kind: 'auth', reason: `http-${status}` };
  }
  if (status === 413) return { kind: 'permanent', reason: 'http-413' };
  if (status >= 400 && status <= 499) return { kind: 'permanent', reason: `http-${status}` };
  // 1xx/3xx are not expected from IoT Core: keep the data and try again later.
  return { kind: 'retry', reason: `http-${status}` };
}
