// Signatures per second on Node for the IoT shape (shape 1): ours, aws4,
// @smithy/signature-v4 and aws-crt. Wall time, so only a bench figure:
// a warm-up, then a fixed number of signatures, best of a few rounds
// (the machine is shared; the best round is the least disturbed one).
import { performance } from 'node:perf_hooks';
import { aws4Signer, crtSigner, smithySigner } from './sigv4-peers.js';
import { nodeCryptoSha256, oursSigner } from './sigv4-ours-node.js';
import type { ShapeReference } from './sigv4-reference.js';

export const NODE_WARMUP_SIGNATURES = 300;
export const NODE_MEASURED_SIGNATURES = 2000;
export const NODE_ROUNDS = 3;

export interface NodeRates {
  ours: number;
  oursNativeSha: number;
  aws4: number;
  smithy: number;
  crt: number;
}

async function rate(sign: () => unknown, expected: string, read: (v: unknown) => string): Promise<number> {
  for (let i = 0; i < NODE_WARMUP_SIGNATURES; i++) await sign();
  const got = read(await sign());
  if (got !== expected) throw new Error(`node rate: signature ${got} is not aws-crt's ${expected}`);
  let best = Infinity;
  for (let r = 0; r < NODE_ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < NODE_MEASURED_SIGNATURES; i++) await sign();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round((NODE_MEASURED_SIGNATURES * 1000) / best);
}

export async function nodeRates(ref: ShapeReference): Promise<NodeRates> {
  const shape = ref.shape;
  const want = ref.crt.signature;
  const asString = (v: unknown) => String(v);
  const ours = oursSigner(shape, { limits: ref.limits });
  const oursNative = oursSigner(shape, { limits: ref.limits, sha256: nodeCryptoSha256 });
  const crt = crtSigner(shape);
  return {
    ours: await rate(ours.sign, want, asString),
    oursNativeSha: await rate(oursNative.sign, want, asString),
    aws4: await rate(aws4Signer(shape), want, asString),
    smithy: await rate(smithySigner(shape), want, asString),
    crt: await rate(crt, want, (v) => (v as { signature: string }).signature),
  };
}
