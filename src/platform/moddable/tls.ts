// TLS settings for the SDK's SecureSocket (Moddable's own TLS 1.2 stack):
// mutual TLS with the device certificate and its PKCS#8 private key (DER),
// plus an optional extra trust anchor. The SDK verifies the server chain
// against its built-in CA store (resources ca*.der from
// $(MODULES)/crypt/data, chosen by the manifest). The firmware never sets the
// platform clock: time for signing comes from the secure clock only.

/** TLS 1.2 (0x0303): the highest version the SDK's TLS implements. */
export const TLS_1_2 = 0x0303;

export interface TlsIdentity {
  /** Device certificate, DER. */
  certificate: ArrayBuffer | HostBuffer;
  /** Device private key, PKCS#8 DER. */
  privateKey: ArrayBuffer | HostBuffer;
  /** Extra trust anchor (e.g. a private CA), DER. */
  trustAnchor?: ArrayBuffer | HostBuffer;
}

/** Bring-up switches, honoured only on the simulator (see agent-entry.ts). */
export interface TlsDebug {
  /** Trace handshake message names (no key material). */
  trace?: boolean;
  /** Do not verify the server certificate. Never on a device. */
  skipServerVerification?: boolean;
}

/**
 * The `secure` dictionary SecureSocket expects. `traceHandshake` makes the
 * SDK trace handshake message names (for bring-up; no key material).
 */
export function secureOptions(identity: TlsIdentity | null, alpn?: string, debug: TlsDebug = {}): Record<string, unknown> {
  const secure: Record<string, unknown> = { protocolVersion: TLS_1_2 };
  if (debug.trace) secure.trace = true;
  if (debug.skipServerVerification) secure.verify = false;
  if (identity) {
    secure.clientCertificates = [identity.certificate];
    secure.clientKey = identity.privateKey;
    if (identity.trustAnchor) secure.certificate = identity.trustAnchor;
  }
  if (alpn) secure.applicationLayerProtocolNegotiation = alpn;
  return secure;
}
