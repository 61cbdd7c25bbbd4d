// The SDK's `rng` module (modules/crypt/etc/rng.js + rng.c), the generator the
// SDK's TLS draws client randoms, key shares and IVs from, which
// @moddable/typings does not declare. init(seed) rekeys it (RC4 key schedule
// over the seed); without a call it seeds itself once from 16 c_rand() bytes.
declare module 'rng' {
  const RNG: {
    get(n: number): ArrayBuffer;
    init(seed?: ArrayBuffer): void;
  };
  export default RNG;
}
