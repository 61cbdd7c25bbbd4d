// The SDK's `x509` module (modules/crypt/etc/x509.js, part of every build that
// includes TLS), which @moddable/typings does not declare. Only what
// src/platform/moddable/tls.ts uses.
declare module 'x509' {
  type Bytes = ArrayBuffer | Uint8Array;
  const X509: {
    decode(cert: Bytes): { tbs: ArrayBuffer; algo: unknown; sig: ArrayBuffer };
    decodeTBS(tbs: ArrayBuffer): { validity: { from: number; to: number } };
    decodeSPKI(cert: Bytes): unknown;
    decodeSAN(cert: Bytes): { tag: number; value: string | ArrayBuffer }[] | undefined;
    decodeExtension(cert: Bytes, oid: number[]): ArrayBuffer | undefined;
  };
  export default X509;
}
