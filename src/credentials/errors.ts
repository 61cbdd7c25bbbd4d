// Typed errors of the credentials client. Messages name what was wrong,
// never the values (a response body may hold a secret).
import { CodedError } from '../shared/errors.js';

export type CredentialsErrorCode =
  | 'bad-config'
  | 'malformed-response'
  | 'response-too-large'
  | 'http-status'
  | 'network'
  /** No answer within the request deadline: the exchange was cancelled at the port. */
  | 'deadline'
  | 'already-expired'
  /** The client's own handling of an answer threw; the answer was dropped and a retry scheduled. */
  | 'internal';

export class CredentialsError extends CodedError<CredentialsErrorCode> {
  override name = 'CredentialsError';
}
