// Fixed-buffer AWS Signature Version 4 signer (portable core).
//
// API summary
// -----------
//   const signer = new Signer({
//     credentials: { accessKeyId, secretAccessKey, sessionToken? },  // or DerivedKeyCredentials
//     region: 'us-east-1', service: 'iotdata',
//     sha256?: Sha256Factory,            // default @noble/hashes (sha256-noble.ts)
//     limits?: Partial<SignerLimits>,    // DEFAULT_LIMITS in limits.ts; all memory sized here
//     debug?: boolean,                   // capture canonical request / string-to-sign
//     normalizePath?, doubleEncodePath?, signBody?, omitSessionToken?,  // flag defaults
//   });
//   const out = signer.sign({ method, path, headers, body? | payloadHash?, timeMs, ...flags });
//   out.headers()            // [['X-Amz-Security-Token', ..]?, ['X-Amz-Date', ..], ['x-amz-content-sha256', ..]?, ['Authorization', ..]]
//   out.bytes + out.*Start/*End   // the same values without allocating (the token: out.token, the caller's string)
//   signer.presign({ ..., expiresSeconds? }).pathAndQuery()   // '/path?...&X-Amz-Signature=...'
//   signer.chunks!.begin(); signer.chunks!.signChunk(bytes); signer.chunks.writeChunkLine(size, buf, 0)
//   signer.chunks.signTrailer(trailers); chunkFramingBytes(size) for content-length
//   presignMqttUrl(signer, { endpoint, timeMs, expiresSeconds? })     // iot.ts
//   signIotPublish(signer, { endpoint, topic, qos?, body, timeMs })   // iot.ts
//   signer.setCredentials(next) / signer.wipe()
//
// Errors: SigV4Error with `code` (errors.ts) and, for LIMIT_EXCEEDED, `limit`.
// Time is always an argument (epoch ms); the signer never reads a clock.
//
// Allocation: only the constructor allocates buffers; signing keeps nothing
// new (docs/signer.md, "What allocates"; the session token is referenced).
export { Signer, ALGORITHM, EMPTY_SHA256_HEX, UNSIGNED_PAYLOAD, STREAMING_PAYLOAD, STREAMING_PAYLOAD_TRAILER, STREAMING_UNSIGNED_PAYLOAD_TRAILER, MAX_EXPIRES_SECONDS } from './signer.js';
export type { SignerOptions, SigningRequest, SigningFlags } from './signer.js';
export type { SignerCredentials, SecretCredentials, DerivedKeyCredentials } from './credentials.js';
export { SignedOutput, AUTHORIZATION_HEADER, AMZ_DATE_HEADER, SECURITY_TOKEN_HEADER, CONTENT_SHA256_HEADER } from './signed-output.js';
export type { SignedMode } from './signed-output.js';
export { ChunkSigner, chunkFramingBytes } from './chunked.js';
export { SigV4Error, isSigV4Error } from './errors.js';
export type { SigV4ErrorCode } from './errors.js';
export { DEFAULT_LIMITS, MAX_ACCESS_KEY_ID_BYTES, MAX_SECRET_KEY_BYTES, MAX_REGION_BYTES, MAX_SERVICE_BYTES, MAX_METHOD_BYTES, MAX_LIMIT_VALUE } from './limits.js';
export type { SignerLimits } from './limits.js';
export { HmacSha256, HMAC_SHA256_BYTES } from './hmac.js';
export { NobleSha256, nobleSha256 } from './sha256-noble.js';
export { hex, hexInto, sha256Hex, isSha256Hex } from './hex.js';
export { encodeUtf8Into, utf8Length, utf8Bytes, decodeUtf8, decodeAscii, UTF8_OVERFLOW, UTF8_LONE_SURROGATE } from '../shared/utf8.js';
export { writeAmzDate, checkSigningTime, AMZ_DATE_BYTES, MAX_SIGNING_TIME_MS } from './amz-date.js';
export { deriveSigningKey } from './derive-key.js';
export { presignMqttUrl, signIotPublish, encodeTopic, IOT_DATA_SERVICE, IOT_GATEWAY_SERVICE, MAX_IOT_TOPIC_BYTES } from './iot.js';
export type { MqttPresignOptions, IotPublishOptions, IotPublishRequest } from './iot.js';
