// AWS IoT credentials provider client (portable core). API:
//   const creds = new CredentialsClient({ http, host, roleAlias, thingName, clock, timer, random });
//   creds.start(); creds.current(); creds.usable(); creds.refresh(reason); creds.status(); creds.stop();
export {
  CredentialsClient,
  DEFAULT_REFRESH_AHEAD_MS,
  DEFAULT_MIN_REFRESH_INTERVAL_MS,
  DEFAULT_CREDENTIALS_BACKOFF_BASE_MS,
  DEFAULT_CREDENTIALS_BACKOFF_CAP_MS,
  DEFAULT_CREDENTIALS_REQUEST_DEADLINE_MS,
  REFRESH_JITTER_FRACTION,
  MAX_CREDENTIAL_FETCHES_PER_HOUR,
  CREDENTIAL_FETCH_WINDOW_MS,
} from './client.js';
export type { CredentialsClientOptions, CredentialsEvent, CredentialsStatus } from './client.js';
export { CredentialsError, type CredentialsErrorCode } from './errors.js';
export { parseCredentialsResponse, parseIsoUtc, TemporaryCredentials, MAX_RESPONSE_BYTES } from './parse.js';
