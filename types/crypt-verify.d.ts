// The SDK's native public-key modules (modules/crypt/etc and arith, part of
// every build that includes crypt/tls.json), which @moddable/typings does not
// declare. Only what src/platform/moddable/tuf-verify.ts uses. The SDK checks
// nothing itself: ECDSA.verify() takes r and s as given (no range check) and
// any point (no on-curve check); RSA.process() is the bare modular power.
declare module 'ecp' {
  export default class ECPoint {
    constructor(x: bigint, y: bigint, identity?: boolean);
    get X(): bigint;
    get Y(): bigint;
    isZero(): boolean;
  }
}

declare module 'curve' {
  import type ECPoint from 'ecp';
  export default class Curve {
    /** 'secp256r1' or 'secp384r1'; any other name leaves an empty object. */
    constructor(name: string);
    readonly G: ECPoint;
    readonly n: bigint;
    get orderSize(): number;
  }
}

declare module 'ecdsa' {
  import type Curve from 'curve';
  import type ECPoint from 'ecp';
  export default class ECDSA {
    constructor(key: ECPoint, curve: Curve);
    /** `H` the digest; `sig` DER (asn1 true) or r || s, each orderSize bytes (asn1 false). */
    verify(H: ArrayBuffer, sig: ArrayBuffer, asn1?: boolean): boolean;
  }
}

declare module 'rsa' {
  export default class RSA {
    /** Public key: exponent and modulus only (the native modular power, no CRT). */
    constructor(e: bigint, m: bigint);
    /** c^e mod m. */
    process(c: bigint): bigint;
    get modulusSize(): number;
  }
}
