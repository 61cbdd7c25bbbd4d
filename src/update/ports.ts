// Ports of the TUF client: what the platform provides. Implementations never
// throw into the core (the core catches anyway and counts a throw as a
// failed check).

/**
 * Verifies one signature. `keytype`/`scheme`/`publicKey` are the key's TUF
 * fields as given (hex for ed25519, PEM for ecdsa and rsa); `signatureHex`
 * is the signature's `sig`. Returns false for a bad signature, a malformed
 * key or signature, and a key type or scheme it does not know (which counts
 * as no signature).
 */
export interface SignatureVerifier {
  verify(keytype: string, scheme: string, publicKey: string, message: Uint8Array, signatureHex: string): boolean;
}

/** Hashes bytes: returns the digest, or null for an algorithm it does not support. */
export interface HashPort {
  digest(algorithm: string, bytes: Uint8Array): Uint8Array | null;
}

/**
 * Fetches a file from the repository. Resolves with its bytes, at most
 * `maxBytes` (an adapter stops reading and rejects past that), with null
 * when the repository says the file does not exist (HTTP 403/404), or
 * rejects (network, other status, over the bound). The core wraps every
 * rejection in a TufError.
 */
export interface FetchPort {
  fetch(url: string, maxBytes: number): Promise<Uint8Array | null>;
}

/**
 * Trusted metadata store: the bytes of verified files, by role name. A
 * save replaces one file atomically (old bytes or new, never a mix).
 */
export interface MetadataStore {
  load(role: string): Uint8Array | null;
  save(role: string, bytes: Uint8Array): void;
  remove(role: string): void;
}

/** The clock reading the client needs (src/time/authority.ts TimeReading fits). */
export interface TufClock {
  now(): { state: string; earliest: number; latest: number };
}

/**
 * Reads part of a target file (HTTP Range on the wire): resolves with the
 * bytes from `offset`, exactly `length` of them unless the file ends first
 * (fewer, possibly none), null when the repository says the file does not
 * exist (HTTP 403/404); rejects on anything else (network, other status,
 * more bytes than asked, a deadline). The staging code never holds more
 * than one such chunk.
 */
export interface RangeFetchPort {
  fetchRange(url: string, offset: number, length: number): Promise<Uint8Array | null>;
}
