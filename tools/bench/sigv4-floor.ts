// The SHA-256 floor of one SigV4 signature: the hashing no signer can avoid,
// done with the same @noble/hashes code the signers use on XS.
//
//   sha256(payload)                 (skipped for an empty payload: its hash is
//                                    a constant every signer may hard-code)
// + sha256(canonical request)
// + HMAC-SHA256(signing key, string to sign), with the key's ipad/opad
//   blocks absorbed once up front (a cached signing key), so per signature
//   it costs exactly the compressions of the message plus one outer block.
//
// The canonical request and string to sign are given whole (computed on
// Node and checked against aws-crt's signature); hex encoding, canonicalising
// and string building are exactly the work the floor leaves out. Portable:
// runs on Node and inside XS; allocates all state in the constructor.
import { sha256, type _SHA256 } from '@noble/hashes/sha2.js';
import { hmac, type _HMAC } from '@noble/hashes/hmac.js';

export interface FloorInput {
  /** Body bytes, or null when the payload hash is the constant sha256(""). */
  payload: Uint8Array | null;
  canonicalRequest: Uint8Array;
  stringToSign: Uint8Array;
  signingKey: Uint8Array;
}

export const DIGEST_BYTES = 32;

export class HashFloor {
  private readonly pristine: _SHA256 = sha256.create();
  private readonly working: _SHA256 = sha256.create();
  private readonly macPristine: _HMAC<_SHA256>;
  private readonly macWorking: _HMAC<_SHA256>;
  /** The last HMAC output: the signature bytes. */
  readonly digest = new Uint8Array(DIGEST_BYTES);
  private readonly input: FloorInput;

  constructor(input: FloorInput) {
    this.input = input;
    this.macPristine = hmac.create(sha256, input.signingKey) as _HMAC<_SHA256>;
    this.macWorking = this.macPristine.clone() as _HMAC<_SHA256>;
  }

  /** One signature's worth of hashing. Leaves the signature in `digest`. */
  run(): void {
    const input = this.input;
    if (input.payload !== null) {
      this.pristine._cloneInto(this.working);
      this.working.update(input.payload);
      this.working.digestInto(this.digest);
    }
    this.pristine._cloneInto(this.working);
    this.working.update(input.canonicalRequest);
    this.working.digestInto(this.digest);
    this.macPristine._cloneInto(this.macWorking);
    this.macWorking.update(input.stringToSign);
    this.macWorking.digestInto(this.digest);
  }
}
