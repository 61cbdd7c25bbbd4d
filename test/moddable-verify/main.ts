// Signature-verifier test firmware: runs ModdableSignatureVerifier (the SDK's
// native ECDSA and RSA arithmetic plus our checks) over the vectors in the
// resource verify-vectors.txt (JSON; mcconfig drops .json resources as module files), which test/moddable-verify.test.ts generates
// with Node's crypto at test time. Traces `VERIFY ok <case>` per case, then
// `VERIFY PASS n`, or `VERIFY FAIL <case>` at the first wrong verdict (a throw
// out of verify() is a wrong verdict: the port must never throw).
import Resource from 'Resource';
import { ModdableSignatureVerifier } from 'platform/moddable/tuf-verify';

interface Vector {
  name: string;
  keytype: string;
  scheme: string;
  key: string;
  /** The signed message, hex. */
  message: string;
  sig: string;
  /** The verdict a board must give. */
  board: boolean;
}

function bytesOfHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function run(): void {
  const text = String.fromArrayBuffer(new Resource('verify-vectors.txt').slice(0));
  const vectors = JSON.parse(text) as Vector[];
  const verifier = new ModdableSignatureVerifier();
  let passed = 0;
  for (const v of vectors) {
    let verdict: boolean | string;
    const t0 = Date.now();
    try {
      verdict = verifier.verify(v.keytype, v.scheme, v.key, bytesOfHex(v.message), v.sig);
    } catch (e) {
      verdict = `threw ${String(e)}`;
    }
    const ms = Date.now() - t0;
    if (verdict !== v.board) {
      trace(`VERIFY FAIL ${v.name} (got ${String(verdict)}, want ${String(v.board)})\n`);
      return;
    }
    trace(`VERIFY ok ${v.name} ${ms} ms\n`);
    passed++;
  }
  trace(`VERIFY PASS ${passed}\n`);
}

export default function main(): void {
  try {
    run();
  } catch (e) {
    trace(`VERIFY FAIL firmware ${String(e)}\n`);
  }
}
