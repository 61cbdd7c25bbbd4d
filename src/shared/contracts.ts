// Contracts between the credentials client and the telemetry uploader, which
// are peers and must not import each other: the client provides credentials,
// the uploader consumes them and judges their freshness by the same margin.

/** Temporary AWS credentials. The secret and the token never appear in logs or errors. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Expiration, epoch ms. */
  readonly expirationMs: number;
}

/** What the uploader needs from credentials management (src/credentials CredentialsClient). */
export interface CredentialSource {
  /** The newest credentials held, or null. Freshness is judged by the hold decision (src/telemetry/hold.ts). */
  current(): AwsCredentials | null;
  /** Ask for new credentials now (no-op while a request is in flight). */
  refresh(reason: string): void;
}

/** Credentials must outlive latest(now) by more than this; the client refreshes before that point. */
export const DEFAULT_CREDENTIAL_MARGIN_MS = 5 * 60_000;
