// TLS for the SDK's SecureSocket (Moddable's own TLS 1.2 stack): mutual TLS
// with the device certificate and its PKCS#8 RSA 2048 private key (DER; the
// SDK signs client authentication only with RSA PKCS#1 v1.5 SHA-256), and our
// own check of the server's chain against the provisioned trust anchors only.
//
// Why our own check: the SDK's CertificateManager.verify (8.2.3,
// modules/crypt/ssl/ssl_cert.js) skips a certificate whose signature does not
// verify and carries on up the chain, keeping the host-name match of the
// first one. A self-made leaf for the right name followed by the real
// intermediate and root (both public) was accepted in the simulator: anyone
// on the path could impersonate the endpoint. It also never checks that an
// issuer is a CA. VerifyingSecureSocket replaces verify() on each session's
// certificate manager (the SDK builds one per connection) with
// serverChainProblem(); the SDK's built-in CA store and
// CertificateManager.register() are not used.
// Certificate dates are checked against the system clock, which the agent
// sets from the secure clock (system-clock.ts) before its first TLS request.
import SecureSocket from 'securesocket';
import X509 from 'x509';

/** TLS 1.2 (0x0303): the highest version the SDK's TLS implements. */
export const TLS_1_2 = 0x0303;
/** Longest server chain looked at (leaf, intermediates, root): AWS sends 3 or 4. */
export const MAX_SERVER_CHAIN_CERTS = 5;

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

type CertBytes = ArrayBuffer | Uint8Array;

function bytesOf(b: CertBytes): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

function sameBytes(a: CertBytes, b: CertBytes): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function validNow(cert: CertBytes, nowMs: number): boolean {
  const v = X509.decodeTBS(X509.decode(cert).tbs).validity;
  return v.from < nowMs && nowMs < v.to;
}

/** basicConstraints (2.5.29.19) says cA TRUE: SEQUENCE { BOOLEAN TRUE, ... }. */
function isCa(cert: CertBytes): boolean {
  const ext = X509.decodeExtension(cert, [2, 5, 29, 19]);
  if (!ext) return false;
  const b = new Uint8Array(ext);
  return b.length >= 5 && b[0] === 0x30 && b[2] === 0x01 && b[3] === 0x01 && b[4] !== 0;
}

function ipv4Text(value: unknown): string | null {
  if (!(value instanceof ArrayBuffer) || value.byteLength !== 4) return null;
  return Array.from(new Uint8Array(value)).join('.');
}

/**
 * The leaf names `host` in its subjectAltName: a dNSName equal to it (case
 * insensitive), a wildcard `*.rest` standing for exactly one left-most label,
 * or an IPv4 iPAddress equal to a literal host. No common-name fallback.
 */
export function certificateNamesHost(leaf: CertBytes, host: string): boolean {
  const wanted = host.toLowerCase();
  const isLiteral = /^\d{1,3}(\.\d{1,3}){3}$/.test(wanted);
  const names = X509.decodeSAN(leaf) ?? [];
  for (const name of names) {
    if (name.tag === 2 && typeof name.value === 'string' && !isLiteral) {
      const dns = name.value.toLowerCase();
      if (dns === wanted) return true;
      const dot = wanted.indexOf('.');
      if (dns.startsWith('*.') && dns.indexOf('*', 1) < 0 && dot > 0 && dns.slice(1) === wanted.slice(dot)) return true;
    } else if (name.tag === 7 && isLiteral && ipv4Text(name.value) === wanted) return true;
  }
  return false;
}

/**
 * Why the server's chain (leaf first) is refused for `host`, or null when it
 * is accepted: the leaf names the host; every certificate is valid at
 * `nowMs`; each one is signed by the next, which is a CA, until one is signed
 * by (or is) a trust anchor. `signedBy(issuer, subject)` checks a signature.
 */
export function serverChainProblem(
  certs: readonly CertBytes[],
  host: string,
  anchors: readonly CertBytes[],
  nowMs: number,
  signedBy: (issuer: CertBytes, subject: CertBytes) => boolean,
): string | null {
  if (certs.length === 0) return 'no server certificate';
  if (certs.length > MAX_SERVER_CHAIN_CERTS) return `more than ${MAX_SERVER_CHAIN_CERTS} certificates`;
  if (anchors.length === 0) return 'no trust anchor provisioned';
  if (!host || !certificateNamesHost(certs[0]!, host)) return `the server certificate does not name ${host}`;
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    if (!validNow(cert, nowMs)) return `certificate ${i} is not valid now (is the clock set?)`;
    if (i > 0 && !isCa(cert)) return `certificate ${i} is not a CA`;
    for (const anchor of anchors) {
      if (sameBytes(cert, anchor) || signedBy(anchor, cert)) return null;
    }
    const issuer = certs[i + 1];
    if (!issuer) return 'the chain does not reach a trust anchor';
    if (!signedBy(issuer, cert)) return `certificate ${i} is not signed by certificate ${i + 1}`;
  }
  return 'the chain does not reach a trust anchor';
}

/** The parts of the SDK's per-connection CertificateManager used here. */
interface SdkCertificateManager {
  verify(certs: CertBytes[], options: { tls_server_name?: string }): boolean;
  _verify(spki: unknown, x509: unknown): boolean;
}

/**
 * SecureSocket whose server chain is checked by serverChainProblem() against
 * `dictionary.trustAnchors` (DER), and nothing else. A refusal is traced
 * with its reason and fails the handshake (the socket reports an error).
 */
export class VerifyingSecureSocket extends SecureSocket {
  constructor(dictionary: Record<string, unknown>) {
    super(dictionary);
    const anchors = (dictionary.trustAnchors as readonly ArrayBuffer[] | undefined) ?? [];
    const manager = (this as unknown as { ssl?: { certificateManager?: SdkCertificateManager } }).ssl?.certificateManager;
    if (!manager) throw new Error('TLS session without a certificate manager');
    const signedBy = (issuer: CertBytes, subject: CertBytes): boolean => {
      try {
        return manager._verify(X509.decodeSPKI(issuer), X509.decode(subject)) === true;
      } catch {
        return false;
      }
    };
    // defineProperty, not assignment: the SDK's prototype is frozen (preloaded), so `manager.verify = ...` throws.
    const verify: SdkCertificateManager['verify'] = (certs, options) => {
      const host = String(options.tls_server_name ?? '');
      let problem: string | null;
      try {
        problem = serverChainProblem(certs, host, anchors, Date.now(), signedBy);
      } catch {
        problem = 'malformed certificate';
      }
      if (problem !== null) trace(`tls: refused ${host}: ${problem}\n`);
      return problem === null;
    };
    Object.defineProperty(manager, 'verify', { value: verify });
  }
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
