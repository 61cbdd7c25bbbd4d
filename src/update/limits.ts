// Every bound of the TUF client, named. A file or a structure over one of
// these is refused with TufError 'over-limit' before it costs more memory or
// time. Values fit a device with a few hundred KiB of RAM; the CLI passes
// the same defaults.

/** Bytes of root.json (no referring metadata gives its length). */
export const MAX_ROOT_BYTES = 512 * 1024;
/** Bytes of timestamp.json when fetched (no referring metadata gives its length). */
export const MAX_TIMESTAMP_BYTES = 16 * 1024;
/** Bytes of snapshot.json when timestamp gives no length. */
export const MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024;
/** Bytes of a targets file (top-level or delegated) when snapshot gives no length. */
export const MAX_TARGETS_BYTES = 5 * 1024 * 1024;
/** Bytes of the canonical form of a signed part (at most the file's own size plus escapes never grow it). */
export const MAX_CANONICAL_BYTES = 5 * 1024 * 1024;
/** Root rotations (N -> N+1) applied in one refresh. */
export const MAX_ROOT_ROTATIONS = 256;
/** Keys in a `keys` object (root or a delegations block). */
export const MAX_KEYS_PER_FILE = 1024;
/** Signatures on one file. */
export const MAX_SIGNATURES_PER_FILE = 1024;
/** Key IDs listed for one role. */
export const MAX_KEYIDS_PER_ROLE = 1024;
/** Delegated roles in one delegations block. */
export const MAX_DELEGATIONS_PER_FILE = 1024;
/** Targets listed in one targets file. */
export const MAX_TARGETS_PER_FILE = 100_000;
/** Entries in snapshot's `meta`. */
export const MAX_SNAPSHOT_ENTRIES = 100_000;
/** Delegated roles visited while looking up one target (the spec's default of 32). */
export const MAX_DELEGATIONS_VISITED = 32;
/** Depth of nested objects/arrays in a metadata file. */
export const MAX_JSON_DEPTH = 32;
/** Paths or hash prefixes in one delegated role. */
export const MAX_PATHS_PER_ROLE = 1024;
/** Hashes listed for one file. */
export const MAX_HASHES_PER_FILE = 8;
/** Bytes of one target when its length is not smaller (targets always give a length). */
export const MAX_TARGET_BYTES = 256 * 1024 * 1024;
