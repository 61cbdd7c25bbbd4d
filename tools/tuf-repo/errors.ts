/** Why the repository writer refused; `code` is stable for tests and scripts. */
export type TufRepoErrorCode = 'bad-input' | 'no-repo' | 'exists' | 'no-key' | 'threshold' | 'unknown-role' | 'unknown-key';

export class TufRepoError extends Error {
  constructor(
    readonly code: TufRepoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TufRepoError';
  }
}
