// The answers the gateway gives, shaped like AWS IoT's data plane: a JSON body
// `{"message": ..., "traceId": ...}`, `x-amzn-ErrorType`, `x-amzn-RequestId`,
// and always a `Date` header (devices use it as a time sample).
//
// Messages are the strings AWS services return for the same condition (as
// reported by SDK users in AWS SDK and IoT SDK issue trackers):
//   skew:            Signature expired: 20231107T044734Z is now earlier than 20231107T045305Z (20231107T045805Z - 5 min.)
//   future skew:     Signature not yet current: <date> is still later than <now + 5> (<now> + 5 min.)
//   expired token:   The security token included in the request is expired
//   unknown key/tok: The security token included in the request is invalid.
//   bad signature:   The request signature we calculated does not match the signature you provided. ...
// The presign-expiry message is ours (AWS IoT does not document one); it starts
// with "Presigned URL expired" so a client can tell it from clock skew.
import { randomUUID } from 'node:crypto';
import { formatAmzDate, formatHttpDate } from './amz-date.js';

/** Why the gateway or the credentials provider refused a request. Stable: counters and docs use these names. */
export type RejectReason =
  | 'missing-auth'
  | 'malformed-auth'
  | 'bad-scope'
  | 'unknown-key'
  | 'invalid-token'
  | 'expired-token'
  | 'skew'
  | 'presign-expired'
  | 'signature-mismatch'
  | 'bad-request'
  | 'payload-too-large'
  | 'not-found'
  | 'method-not-allowed'
  | 'injected-429'
  | 'injected-500'
  | 'injected-503'
  | 'broker-error'
  | 'internal-error'
  | 'client-cert'
  | 'thing-mismatch'
  | 'unknown-role-alias'
  | 'not-authorized';

export interface Rejection {
  reason: RejectReason;
  status: number;
  /** Value of `x-amzn-ErrorType`. */
  errorType: string;
  message: string;
}

/** The SigV4 time window AWS enforces on both sides of its clock. */
export const SKEW_WINDOW_MS = 5 * 60 * 1000;

export function reject(reason: RejectReason, message: string): Rejection {
  switch (reason) {
    case 'bad-request':
      return { reason, status: 400, errorType: 'InvalidRequestException', message };
    case 'payload-too-large':
      return { reason, status: 413, errorType: 'RequestEntityTooLargeException', message };
    case 'not-found':
      return { reason, status: 404, errorType: 'ResourceNotFoundException', message };
    case 'unknown-role-alias':
      return { reason, status: 404, errorType: 'ResourceNotFoundException', message };
    case 'method-not-allowed':
      return { reason, status: 405, errorType: 'MethodNotAllowedException', message };
    case 'injected-429':
      return { reason, status: 429, errorType: 'ThrottlingException', message };
    case 'broker-error':
    case 'internal-error':
    case 'injected-500':
      return { reason, status: 500, errorType: 'InternalFailureException', message };
    case 'injected-503':
      return { reason, status: 503, errorType: 'ServiceUnavailableException', message };
    case 'not-authorized':
      return { reason, status: 403, errorType: 'AccessDeniedException', message };
    default:
      return { reason, status: 403, errorType: 'ForbiddenException', message };
  }
}

export const MESSAGES = {
  missingAuth: 'Missing Authentication Token',
  invalidToken: 'The security token included in the request is invalid.',
  expiredToken: 'The security token included in the request is expired',
  signatureMismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  throttled: 'Rate exceeded',
  internal: 'Internal failure',
  unavailable: 'Service Unavailable',
} as const;

/** "Signature expired" when the request is older than the window, "not yet current" when newer. */
export function skewMessage(requestMs: number, nowMs: number): string {
  const req = formatAmzDate(requestMs);
  const now = formatAmzDate(nowMs);
  if (requestMs < nowMs) {
    return `Signature expired: ${req} is now earlier than ${formatAmzDate(nowMs - SKEW_WINDOW_MS)} (${now} - 5 min.)`;
  }
  return `Signature not yet current: ${req} is still later than ${formatAmzDate(nowMs + SKEW_WINDOW_MS)} (${now} + 5 min.)`;
}

export function presignExpiredMessage(requestMs: number, expiresSeconds: number, nowMs: number): string {
  return `Presigned URL expired: ${formatAmzDate(requestMs)} + ${expiresSeconds} s = ${formatAmzDate(
    requestMs + expiresSeconds * 1000,
  )} is now earlier than ${formatAmzDate(nowMs)}`;
}

export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A JSON answer with the headers every gateway/provider response carries. */
export function jsonAnswer(status: number, body: unknown, nowMs: number, extra: Record<string, string> = {}): WireAnswer {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  return {
    status,
    headers: {
      date: formatHttpDate(nowMs),
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      ...extra,
    },
    body: bytes,
  };
}

export function rejectionAnswer(r: Rejection, nowMs: number): WireAnswer {
  const traceId = randomUUID();
  return jsonAnswer(r.status, { message: r.message, traceId }, nowMs, {
    'x-amzn-requestid': traceId,
    'x-amzn-errortype': r.errorType,
  });
}

export function okAnswer(nowMs: number): WireAnswer {
  const traceId = randomUUID();
  return jsonAnswer(200, { message: 'OK', traceId }, nowMs, { 'x-amzn-requestid': traceId });
}
