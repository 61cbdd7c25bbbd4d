// The SDK's native `crypt` module (modules/crypt/digest/crypt.js), which
// @moddable/typings 5.6 does not declare. Digest.write() accepts any buffer
// (the native side uses xsmcGetBufferReadable); close() returns a new
// ArrayBuffer holding the digest.
declare module 'crypt' {
  type DigestType = 'MD5' | 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512';
  export class Digest {
    constructor(type: DigestType);
    write(message: string | ArrayBuffer): void;
    close(): ArrayBuffer;
    reset(): void;
    get blockSize(): number;
    get outputSize(): number;
    update(message: string | ArrayBuffer): void;
  }
}
