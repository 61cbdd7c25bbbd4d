// Reference data for the signer benchmark, computed on Node before anything
// is measured: aws-crt's signature for each shape (the correctness oracle),
// the exact canonical request and string to sign (from our debug mode and,
// separately, from the hash inputs smithy used), the signing key (derived
// with node:crypto) and the signer limits sized for the shape. Every piece
// is checked against aws-crt; any disagreement fails the section loudly.
import { createHash, createHmac } from 'node:crypto';
import { PeerMismatchError, aws4Signer, captureFromRecords, crtSigner, smithySigner, type CrtResult, type HashRecord } from './sigv4-peers.js';
import { oursDebugCapture, signingKeyNode } from './sigv4-ours-node.js';
import { limitsFor } from './sigv4-sizing.js';
import { BENCH_ACCESS_KEY_ID, BENCH_SECRET_ACCESS_KEY, BENCH_SIGNING_TIME_MS, wirePath, type BenchShape } from './sigv4-shapes.js';
import type { XsShape } from './sigv4-xs-meter.js';

export interface FloorSpec {
  payload: boolean;
  canonicalRequest: string;
  stringToSign: string;
  signingKeyHex: string;
}

export interface ShapeReference {
  shape: BenchShape;
  crt: CrtResult;
  limits: Record<string, number>;
  /** Floor inputs from our signer's debug capture. */
  oursFloor: FloorSpec;
  /** Floor inputs from smithy's own hash operations. */
  smithyFloor: FloorSpec;
  /** aws4's signature on Node, or null when the bench does not drive aws4 for this shape. */
  aws4Signature: string | null;
  canonicalRequestBytes: number;
  stringToSignBytes: number;
}

function mismatch(shape: BenchShape, what: string, got: string, want: string): PeerMismatchError {
  return new PeerMismatchError(`${shape.name}: ${what} ${got} differs from aws-crt's ${want}`);
}

function checkCapture(shape: BenchShape, canonicalRequest: string, stringToSign: string, key: Buffer, signature: string, who: string): void {
  const creqHash = createHash('sha256').update(canonicalRequest, 'latin1').digest('hex');
  if (!stringToSign.endsWith(`\n${creqHash}`)) throw new PeerMismatchError(`${shape.name}: ${who} string to sign does not end with sha256(canonical request)`);
  const hmac = createHmac('sha256', key).update(stringToSign, 'latin1').digest('hex');
  if (hmac !== signature) throw mismatch(shape, `HMAC of ${who}'s string to sign`, hmac, signature);
}

export async function referenceFor(shape: BenchShape): Promise<ShapeReference> {
  const crt = await crtSigner(shape)();
  const want = crt.signature;

  const records: HashRecord[] = [];
  const smithy = await smithySigner(shape, records)();
  if (smithy !== want) throw mismatch(shape, '@smithy/signature-v4 signature', smithy, want);
  const captured = captureFromRecords(records, shape, want);
  const decoder = new TextDecoder('latin1');
  const smithyCreq = decoder.decode(captured.canonicalRequest);
  const smithySts = decoder.decode(captured.stringToSign);
  const key = signingKeyNode(shape);
  if (!key.equals(Buffer.from(captured.signingKey))) throw new PeerMismatchError(`${shape.name}: smithy's signing key differs from the AWS derivation`);
  checkCapture(shape, smithyCreq, smithySts, key, want, 'smithy');

  const ours = oursDebugCapture(shape);
  if (ours.signature !== want) throw mismatch(shape, 'our signature', ours.signature, want);
  checkCapture(shape, ours.canonicalRequest, ours.stringToSign, key, want, 'our debug');
  if (ours.canonicalRequest !== smithyCreq || ours.stringToSign !== smithySts) {
    throw new PeerMismatchError(`${shape.name}: our canonical request / string to sign differ from smithy's although both signatures match`);
  }

  let aws4Signature: string | null = null;
  if (shape.mode === 'header' && !shape.signBody) {
    aws4Signature = aws4Signer(shape)();
    if (aws4Signature !== want) throw mismatch(shape, 'aws4 signature', aws4Signature, want);
  }

  const keyHex = key.toString('hex');
  return {
    shape,
    crt,
    limits: limitsFor(shape, crt),
    oursFloor: { payload: shape.body.length > 0, canonicalRequest: ours.canonicalRequest, stringToSign: ours.stringToSign, signingKeyHex: keyHex },
    smithyFloor: { payload: captured.payload !== null, canonicalRequest: smithyCreq, stringToSign: smithySts, signingKeyHex: keyHex },
    aws4Signature,
    canonicalRequestBytes: ours.canonicalRequest.length,
    stringToSignBytes: ours.stringToSign.length,
  };
}

export function xsShapeOf(ref: ShapeReference, floor: FloorSpec): XsShape {
  const s = ref.shape;
  return {
    name: s.name,
    mode: s.mode,
    method: s.method,
    wirePath: wirePath(s),
    headers: s.headers,
    body: s.body,
    region: s.region,
    service: s.service,
    signBody: s.signBody,
    sessionToken: s.sessionToken,
    omitSessionToken: s.omitSessionToken,
    expiresSeconds: s.expiresSeconds,
    timeMs: BENCH_SIGNING_TIME_MS,
    accessKeyId: BENCH_ACCESS_KEY_ID,
    secretAccessKey: BENCH_SECRET_ACCESS_KEY,
    limits: ref.limits,
    floor,
  };
}
