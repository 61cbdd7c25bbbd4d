// Typed errors of the Moddable adapters. Every failure has a stable string
// `code`; messages name settings, sizes and module names, never secrets
// (certificates, keys, passwords, tokens) or payloads.
import { CodedError } from '../../shared/errors.js';

export type ModdableErrorCode =
  /** mc/config (or a provisioning resource) is missing a value or holds a malformed one. */
  | 'INVALID_CONFIG'
  /** A key or value does not fit the platform's Preference limits. */
  | 'PREFERENCE_LIMIT'
  /** A flash offset, length or block index is outside the storage area. */
  | 'FLASH_RANGE'
  /** The storage backing the FlashPort could not be opened, read or written. */
  | 'FLASH_IO'
  /** An HTTP request or response exceeded a named bound, or was malformed. */
  | 'HTTP_LIMIT'
  /** An HTTP answer body larger than the adapter holds: the HttpPort contract's code (src/ports.ts). */
  | 'too-large'
  /** The network stack reported an error (DNS, TCP, TLS). */
  | 'NETWORK';

export class ModdableError extends CodedError<ModdableErrorCode> {
  override name = 'ModdableError';
}
