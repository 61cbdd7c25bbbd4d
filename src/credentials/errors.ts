// Typed errors of the credentials client. Messages name what was wrong,
// never the values (a response body may hold a secret).
import { CodedError } from '../shared/errors.js';

export type CredentialsErrorCode =
  | 'bad-config'
  | 'malformed-response'
  | 'response-too-large'
  | 'http-status'
  | 'network'
  | 'already-expired';

export class CredentialsError extends CodedError<CredentialsErrorCode> {
  override name = 'CredentialsError';
}
