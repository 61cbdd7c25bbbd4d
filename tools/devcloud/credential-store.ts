// The only credentials the gateway accepts: those the credentials provider
// issued. Kept in memory for the life of the DevCloud object (a restart of the
// servers keeps it). Bounded: at capacity, expired entries go first, then the
// oldest.
import { randomBytes } from 'node:crypto';

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Always set for issued credentials; null only for long-term keys registered with register(). */
  sessionToken: string | null;
  /** Epoch ms (dev cloud clock) from which the token is expired. */
  expirationMs: number;
  thingName: string;
  issuedMs: number;
}

export interface CredentialStoreOptions {
  /** Most credentials remembered at once. Default DEFAULT_STORE_CAPACITY. */
  capacity?: number;
  /** Random bytes in a session token (base64: 4/3 as many chars). Default DEFAULT_SESSION_TOKEN_BYTES (1024 chars, near AWS's size). */
  sessionTokenBytes?: number;
}

export const DEFAULT_STORE_CAPACITY = 4096;
export const DEFAULT_SESSION_TOKEN_BYTES = 768;
export const MAX_SESSION_TOKEN_BYTES = 3072;

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Temporary AWS keys start with ASIA and have 20 characters. */
const KEY_ID_RANDOM_CHARS = 16;

function randomKeyId(): string {
  const bytes = randomBytes(KEY_ID_RANDOM_CHARS);
  let id = 'ASIA';
  for (let i = 0; i < KEY_ID_RANDOM_CHARS; i++) id += KEY_ID_ALPHABET[bytes[i]! & 31];
  return id;
}

export class CredentialStore {
  private readonly byKey = new Map<string, IssuedCredentials>();
  readonly capacity: number;
  readonly sessionTokenBytes: number;

  constructor(options: CredentialStoreOptions = {}) {
    this.capacity = options.capacity ?? DEFAULT_STORE_CAPACITY;
    this.sessionTokenBytes = options.sessionTokenBytes ?? DEFAULT_SESSION_TOKEN_BYTES;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('credential store capacity must be a positive integer');
    if (!Number.isInteger(this.sessionTokenBytes) || this.sessionTokenBytes < 16 || this.sessionTokenBytes > MAX_SESSION_TOKEN_BYTES) {
      throw new RangeError(`session token bytes must be an integer in [16, ${MAX_SESSION_TOKEN_BYTES}]`);
    }
  }

  issue(thingName: string, nowMs: number, lifetimeSeconds: number): IssuedCredentials {
    this.makeRoom(nowMs);
    let accessKeyId = randomKeyId();
    // 32^16 ids: a collision is astronomically unlikely, but never hand out the same id twice.
    while (this.byKey.has(accessKeyId)) accessKeyId = randomKeyId();
    const creds: IssuedCredentials = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(this.sessionTokenBytes).toString('base64'),
      // Whole seconds, so the ISO `expiration` handed to the device is exactly when the gateway starts refusing.
      expirationMs: Math.floor((nowMs + lifetimeSeconds * 1000) / 1000) * 1000,
      thingName,
      issuedMs: nowMs,
    };
    this.byKey.set(accessKeyId, creds);
    return creds;
  }

  /**
   * Adds credentials that did not come from the provider: long-term keys
   * (sessionToken null) or the published test-vector keys. The gateway never
   * calls this; tests and tools that verify foreign signatures do.
   */
  register(creds: IssuedCredentials): void {
    if (this.byKey.has(creds.accessKeyId)) throw new RangeError('access key id already registered');
    this.makeRoom(creds.issuedMs);
    this.byKey.set(creds.accessKeyId, { ...creds });
  }

  get(accessKeyId: string): IssuedCredentials | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Make one key (or every key) expired as of `nowMs`. Returns how many changed. */
  expire(nowMs: number, accessKeyId?: string): number {
    let n = 0;
    for (const c of this.byKey.values()) {
      if (accessKeyId !== undefined && c.accessKeyId !== accessKeyId) continue;
      if (c.expirationMs > nowMs) {
        c.expirationMs = nowMs;
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.byKey.size;
  }

  private makeRoom(nowMs: number): void {
    if (this.byKey.size < this.capacity) return;
    for (const [k, c] of this.byKey) if (c.expirationMs <= nowMs) this.byKey.delete(k);
    // Map iteration is insertion order: the first key is the oldest.
    while (this.byKey.size >= this.capacity) this.byKey.delete(this.byKey.keys().next().value as string);
  }
}
