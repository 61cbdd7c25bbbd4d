// Checks that a device private key (PKCS#8 DER) is one a board's TLS can use
// for client authentication: Moddable's TLS signs certificateVerify only with
// RSA (PKCS#1 v1.5, SHA-256); a P-256 key fails there, mid-handshake, with no
// useful message. Shared by the board configuration (at boot) and the host
// provisioning tool, so both refuse the same keys with the same words.
// Only the outer structure is read (bounded DER walk); nothing is echoed.

/** The modulus size device keys must have (AWS IoT accepts 2048 and up; 2048 keeps the handshake affordable on a Pico). */
export const DEVICE_RSA_BITS = 2048;

import { derTlv, type Tlv } from './der.js';

// OIDs as DER content bytes.
const RSA_ENCRYPTION = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

function same(b: Uint8Array, t: Tlv, oid: readonly number[]): boolean {
  if (t.end - t.start !== oid.length) return false;
  for (let i = 0; i < oid.length; i++) if (b[t.start + i] !== oid[i]) return false;
  return true;
}

/**
 * Null when `der` is a PKCS#8 RSA key of DEVICE_RSA_BITS bits; otherwise why
 * not, in words for the person provisioning the board.
 */
export function deviceKeyProblem(der: Uint8Array): string | null {
  const outer = derTlv(der, 0, der.length);
  if (!outer || outer.tag !== 0x30) return 'not a DER PKCS#8 private key';
  const version = derTlv(der, outer.start, outer.end);
  if (!version || version.tag !== 0x02) return 'not a DER PKCS#8 private key';
  const algorithm = derTlv(der, version.end, outer.end);
  if (!algorithm || algorithm.tag !== 0x30) {
    // PKCS#1 RSAPrivateKey has an INTEGER (the modulus) here, SEC 1 ECPrivateKey an OCTET STRING.
    return 'not PKCS#8 (convert with: openssl pkcs8 -topk8 -nocrypt -outform der)';
  }
  const oid = derTlv(der, algorithm.start, algorithm.end);
  if (!oid || oid.tag !== 0x06) return 'not a DER PKCS#8 private key';
  if (same(der, oid, EC_PUBLIC_KEY)) {
    const curve = derTlv(der, oid.end, algorithm.end);
    const name = curve && curve.tag === 0x06 && same(der, curve, P256) ? 'a P-256 (EC) key' : 'an EC key';
    return `${name}: the board's TLS signs client authentication only with RSA; issue an RSA ${DEVICE_RSA_BITS} device key`;
  }
  if (!same(der, oid, RSA_ENCRYPTION)) return `not an RSA key: the board's TLS signs client authentication only with RSA; issue an RSA ${DEVICE_RSA_BITS} device key`;
  const octets = derTlv(der, algorithm.end, outer.end);
  if (!octets || octets.tag !== 0x04) return 'not a DER PKCS#8 private key';
  const rsa = derTlv(der, octets.start, octets.end);
  const rsaVersion = rsa && rsa.tag === 0x30 ? derTlv(der, rsa.start, rsa.end) : null;
  const modulus = rsa && rsaVersion && rsaVersion.tag === 0x02 ? derTlv(der, rsaVersion.end, rsa.end) : null;
  if (!rsa || !modulus || modulus.tag !== 0x02 || modulus.end === modulus.start) return 'malformed RSA private key';
  let first = modulus.start;
  while (first < modulus.end - 1 && der[first] === 0) first++;
  const top = der[first]!;
  let bits = (modulus.end - first - 1) * 8;
  for (let v = top; v > 0; v >>= 1) bits++;
  if (bits !== DEVICE_RSA_BITS) return `an RSA ${bits}-bit key: device keys must be RSA ${DEVICE_RSA_BITS}`;
  return null;
}
