// The SigV4 signing key, derived once per (date, region, service) and
// cached: kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
// service), "aws4_request"). A signer may instead hold only a derived key
// for one date (the device never stores the secret); asking it to sign at
// another date is KEY_DATE_MISMATCH.
import { SigV4Error, limitExceeded } from './errors.js';
import { HMAC_SHA256_BYTES, type HmacSha256 } from './hmac.js';
import { MAX_SECRET_KEY_BYTES } from './limits.js';
import { encodeUtf8Into, utf8Length } from '../shared/utf8.js';

export const DATE_BYTES = 8;
const AWS4_REQUEST = 'aws4_request';
const TERMINATOR_BYTES = 12;

export class SigningKeyCache {
  private readonly hmac: HmacSha256;
  /** "AWS4" + secret, UTF-8. */
  private readonly secret = new Uint8Array(4 + MAX_SECRET_KEY_BYTES);
  private secretLen = 0;
  /** When true, `key` was given and only `date` may be used. */
  private derivedOnly = false;
  private valid = false;
  /**
   * Changes whenever `key` changes or the shared HMAC is re-keyed here
   * (derivation): the signer re-keys its HMAC only when this moved.
   */
  generation = 0;
  private readonly date = new Uint8Array(DATE_BYTES);
  readonly key = new Uint8Array(HMAC_SHA256_BYTES);
  private readonly scratch = new Uint8Array(HMAC_SHA256_BYTES);
  private readonly terminator = new Uint8Array(TERMINATOR_BYTES);

  constructor(hmac: HmacSha256) {
    this.hmac = hmac;
    for (let i = 0; i < TERMINATOR_BYTES; i++) this.terminator[i] = AWS4_REQUEST.charCodeAt(i);
  }

  setSecret(secretAccessKey: string): void {
    if (typeof secretAccessKey !== 'string' || secretAccessKey.length === 0) {
      throw new SigV4Error('INVALID_CREDENTIALS', 'secretAccessKey must be a non-empty string');
    }
    // Check the size first: a failed call must leave the previous secret intact.
    const n = utf8Length(secretAccessKey);
    if (n < 0) throw new SigV4Error('INVALID_CREDENTIALS', 'secretAccessKey is not valid UTF-16');
    if (n > MAX_SECRET_KEY_BYTES) throw limitExceeded('MAX_SECRET_KEY_BYTES', 'secretAccessKey');
    const s = this.secret;
    s.fill(0);
    s[0] = 0x41; s[1] = 0x57; s[2] = 0x53; s[3] = 0x34; // AWS4
    this.secretLen = encodeUtf8Into(secretAccessKey, 0, secretAccessKey.length, s, 4, s.length);
    this.derivedOnly = false;
    this.valid = false;
  }

  /** Throws INVALID_CREDENTIALS unless key is 32 bytes and date is 'YYYYMMDD'. */
  checkDerived(key: unknown, date: unknown): void {
    if (!(key instanceof Uint8Array) || key.length !== HMAC_SHA256_BYTES) {
      throw new SigV4Error('INVALID_CREDENTIALS', 'signingKey must be a Uint8Array of 32 bytes');
    }
    if (typeof date !== 'string' || !/^[0-9]{8}$/.test(date)) {
      throw new SigV4Error('INVALID_CREDENTIALS', "derived key date must be 'YYYYMMDD'");
    }
  }

  /** Uses a derived key for `date` (8 ASCII digits) only. */
  setDerived(key: Uint8Array, date: string): void {
    this.checkDerived(key, date);
    this.secret.fill(0);
    this.secretLen = 0;
    this.key.set(key);
    for (let i = 0; i < DATE_BYTES; i++) this.date[i] = date.charCodeAt(i);
    this.derivedOnly = true;
    this.valid = true;
    this.generation++;
  }

  /**
   * Makes `key` the signing key for the date amzDate[offset, offset + 8),
   * deriving it only when the date changed. Region and service are
   * scope[regionStart, regionEnd) and scope[serviceStart, serviceEnd).
   */
  ensure(amzDate: Uint8Array, offset: number, scope: Uint8Array, regionStart: number, regionEnd: number, serviceStart: number, serviceEnd: number): void {
    let same = this.valid;
    for (let i = 0; same && i < DATE_BYTES; i++) same = this.date[i] === amzDate[offset + i];
    if (same) return;
    if (this.derivedOnly) throw new SigV4Error('KEY_DATE_MISMATCH', 'the derived signing key is for another date');
    const { hmac, scratch, key } = this;
    this.generation++;
    hmac.setKey(this.secret, 0, this.secretLen);
    hmac.mac(amzDate, offset, offset + DATE_BYTES, scratch, 0);
    hmac.setKey(scratch, 0, HMAC_SHA256_BYTES);
    hmac.mac(scope, regionStart, regionEnd, key, 0);
    hmac.setKey(key, 0, HMAC_SHA256_BYTES);
    hmac.mac(scope, serviceStart, serviceEnd, scratch, 0);
    hmac.setKey(scratch, 0, HMAC_SHA256_BYTES);
    hmac.mac(this.terminator, 0, TERMINATOR_BYTES, key, 0);
    scratch.fill(0);
    for (let i = 0; i < DATE_BYTES; i++) this.date[i] = amzDate[offset + i]!;
    this.valid = true;
  }

  /** Forgets the cached key and the secret. */
  wipe(): void {
    this.secret.fill(0);
    this.key.fill(0);
    this.secretLen = 0;
    this.valid = false;
    this.derivedOnly = false;
    this.generation++;
  }
}
