// TLS settings for the SDK's SecureSocket (Moddable's own TLS 1.2 stack):
// mutual TLS with the device certificate and its PKCS#8 RSA 2048 private key
// (DER; the SDK signs client authentication only with RSA PKCS#1 v1.5
// SHA-256). Server chains are verified, always, against the SDK's built-in
// CA store plus the provisioned trust anchors, registered once at boot with
// CertificateManager.register() (the per-connection `certificate` option
// takes only one, and AWS may present a chain to Amazon Root CA 1 or 3).
// Certificate dates are checked against the system clock, which the agent
// sets from the secure clock (system-clock.ts) before its first TLS request.
import CertificateManager from 'ssl/cert';

/** TLS 1.2 (0x0303): the highest version the SDK's TLS implements. */
export const TLS_1_2 = 0x0303;

export interface TlsIdentity {
  /** Device certificate, DER. */
  certificate: ArrayBuffer | HostBuffer;
  /** Device private key, PKCS#8 DER, RSA 2048 (checked at boot: src/shared/device-key.ts). */
  privateKey: ArrayBuffer | HostBuffer;
}

/** Bring-up switch: trace handshake message names (no key material). */
export interface TlsDebug {
  trace?: boolean;
}

/** Adds every anchor (DER) to the SDK's trust anchors, for all later connections. */
export function registerTrustAnchors(anchors: readonly ArrayBuffer[]): void {
  for (const anchor of anchors) CertificateManager.register(anchor);
}

/** The `secure` dictionary SecureSocket expects. */
export function secureOptions(identity: TlsIdentity | null, alpn?: string, debug: TlsDebug = {}): Record<string, unknown> {
  const secure: Record<string, unknown> = { protocolVersion: TLS_1_2 };
  if (debug.trace) secure.trace = true;
  if (identity) {
    secure.clientCertificates = [identity.certificate];
    secure.clientKey = identity.privateKey;
  }
  if (alpn) secure.applicationLayerProtocolNegotiation = alpn;
  return secure;
}
