// The TUF client core: see updater.ts for the workflow, limits.ts for the bounds.
export { CanonicalJsonWriter, canonicalKeyOrder } from './canonical-json.js';
export { TufError, type TufErrorCode } from './errors.js';
export * from './limits.js';
export { parseEnvelope, parseExpires } from './metadata.js';
export type { Envelope, Key, MetaFile, RootSigned, SnapshotSigned, TargetFile, TargetsSigned, TimestampSigned } from './metadata.js';
export { pathMatches, quote, MAX_PATTERN_STEPS } from './names.js';
export type { FetchPort, HashPort, MetadataStore, SignatureVerifier, TufClock } from './ports.js';
export { checkLengthAndHashes, TrustedSet, type VerifiedTargets } from './trusted-set.js';
export { Updater, type TargetInfo, type UpdaterOptions } from './updater.js';
export { downloadTargets, type TargetCache } from './download.js';
export { BOOT_RECORD_BYTES, FirmwareSlots, MAX_TRIAL_BOOTS, type BootState, type SlotImage } from './slots.js';
export { STAGING_CHUNK_BYTES, stageTarget, type StageOptions } from './staging.js';
export { UpdateError, type UpdateErrorCode } from './update-error.js';
export {
  ANTI_ROLLBACK_KEYS,
  AntiRollbackCounters,
  checkTarget,
  MAX_BINDING_CHARS,
  MAX_PROVENANCE_FIELDS,
  MAX_PROVENANCE_NAME_CHARS,
  MAX_PROVENANCE_VALUE_CHARS,
  MAX_TARGET_THINGS,
  TARGET_KINDS,
  type DevicePolicy,
  type TargetBinding,
  type TargetKind,
} from './policy.js';
export {
  CONFIG_RECORD_KEYS,
  ConfigStore,
  effectiveLimits,
  MAX_CONFIG_BUNDLE_BYTES,
  MAX_CONFIG_RECORD_CHARS,
  MAX_CONFIG_TARGET_CHARS,
  parseConfigBundle,
  type AppliedConfig,
  type CompiledLimits,
  type ConfigOverlay,
} from './config-bundle.js';
