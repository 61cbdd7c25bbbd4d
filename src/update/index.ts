// The TUF client core: see updater.ts for the workflow, limits.ts for the bounds.
export { CanonicalJsonWriter, canonicalKeyOrder } from './canonical-json.js';
export { TufError, type TufErrorCode } from './errors.js';
export * from './limits.js';
export { parseEnvelope, parseExpires } from './metadata.js';
export type { Envelope, Key, MetaFile, RootSigned, SnapshotSigned, TargetFile, TargetsSigned, TimestampSigned } from './metadata.js';
export { pathMatches, quote, MAX_PATTERN_STEPS } from './names.js';
export type { FetchPort, HashPort, MetadataStore, SignatureVerifier, TufClock } from './ports.js';
export { checkLengthAndHashes, TrustedSet } from './trusted-set.js';
export { Updater, type TargetInfo, type UpdaterOptions } from './updater.js';
export { downloadTargets, type TargetCache } from './download.js';
export { BOOT_RECORD_BYTES, FirmwareSlots, MAX_TRIAL_BOOTS, type BootState, type SlotImage } from './slots.js';
export { STAGING_CHUNK_BYTES, stageTarget, type StageOptions } from './staging.js';
