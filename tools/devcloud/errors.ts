// Typed errors of the dev cloud tooling. Every error carries a stable string
// `code` so callers (tests, the CLI, the virtual device) branch on the code,
// never on the message. Messages never contain secrets (keys, tokens).

export type DevCloudErrorCode =
  | 'BAD_OPTION' // an option or CLI argument is malformed or out of range
  | 'BAD_THING_NAME' // a thing name outside [A-Za-z0-9:_-]{1,128}
  | 'OPENSSL_FAILED' // the openssl CLI exited non-zero or is missing
  | 'BROKER_START_FAILED' // the broker did not come up within its bound
  | 'NOT_RUNNING' // an operation needs a running dev cloud
  | 'ALREADY_STOPPED' // stop() twice, or use after stop
  | 'STALE_STATE'; // a state directory from an older layout (single CA without an intermediate)

export class DevCloudError extends Error {
  override name = 'DevCloudError';
  readonly code: DevCloudErrorCode;
  constructor(code: DevCloudErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
