// Limits AWS itself sets, in one place: config validation, the parsers and
// the signer's sizing all derive from these, so that what the device accepts
// it can also sign and send.

/** AWS IoT topic names: at most 256 bytes of UTF-8 (AWS IoT Core quotas). */
export const MAX_TOPIC_BYTES = 256;
/** AWS IoT topic names: at most 7 forward slashes (AWS IoT Core quotas). */
export const MAX_TOPIC_SLASHES = 7;
/** AWS IoT thing names: 1..128 characters of [a-zA-Z0-9:_-]. */
export const MAX_THING_NAME_CHARS = 128;
/** AWS IoT role aliases: 1..128 characters of [\w=,@-]. */
export const MAX_ROLE_ALIAS_CHARS = 128;
/**
 * Longest session token the credentials parser accepts (AWS: about 1 KB
 * today); the IoT signer's limits are sized from it so that every token the
 * device accepts it can also sign with.
 */
export const MAX_SESSION_TOKEN_CHARS = 4096;
/**
 * SigV4: AWS refuses a request whose signing time is more than 5 minutes
 * from its own clock ("Signature expired" / "not yet current"). So a request
 * it accepted proves the device's signing time was within this of true time.
 */
export const SIGV4_MAX_SKEW_MS = 5 * 60_000;
