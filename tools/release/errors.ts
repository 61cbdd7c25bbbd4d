/** Why the release tool refused; `code` is stable for tests and scripts. */
export type ReleaseErrorCode =
  | 'bad-input'
  | 'no-state'
  | 'exists'
  | 'token'
  | 'no-pin'
  | 'self-approval'
  | 'not-approver'
  | 'expired'
  | 'below-threshold'
  | 'wrong-bytes'
  | 'stale'
  | 'duplicate'
  | 'audit';

export class ReleaseError extends Error {
  constructor(
    readonly code: ReleaseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ReleaseError';
  }
}
