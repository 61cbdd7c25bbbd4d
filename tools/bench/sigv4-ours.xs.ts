// XS entry (bundled by rollup to build/xs/sigv4-ours.js): our signer and the
// SHA-256 floor, in the same bundle so both use the same @noble/hashes code.
//
// Commands from the host (globalThis.handleCommand, JSON):
//   setup   {shapes}          build one Signer per shape (limits sized for it)
//   measure {warmup, iterations}   computrons per signature, per shape
//   heap    {shape, n}        n signatures, then gc(); the host reads the heap
//   garbage {shape, n, floor?}  gc(), then n signatures (or floors) without gc
// Every command ends with a `done` report (issueCommand); the host treats a
// command without it as failed, since the engine may end a crank quietly.
import { Signer, type SignedOutput, type SigningRequest } from '../../src/sigv4/index.js';
import { HashFloor } from './sigv4-floor.js';
import {
  asciiBytes,
  collectGarbage,
  hexBytes,
  measureSync,
  receive,
  send,
  toHex,
  typedArrayCensus,
  type XsShape,
} from './sigv4-xs-meter.js';

interface Prepared {
  shape: XsShape;
  signer: Signer;
  request: SigningRequest;
  floor: HashFloor;
  /** sign() or presign() of the prepared request: the measured call. */
  run: () => SignedOutput;
}

function prepare(shape: XsShape): Prepared {
  const signer = new Signer({
    credentials: {
      accessKeyId: shape.accessKeyId,
      secretAccessKey: shape.secretAccessKey,
      ...(shape.sessionToken !== null ? { sessionToken: shape.sessionToken } : {}),
    },
    region: shape.region,
    service: shape.service,
    limits: shape.limits,
    signBody: shape.signBody,
    omitSessionToken: shape.omitSessionToken,
    // No bench shape streams an upload: sized as a device that never does (no chunk signer).
    chunkedUploads: false,
  });
  const request: SigningRequest = {
    method: shape.method,
    path: shape.wirePath,
    headers: shape.headers,
    body: shape.body.length ? asciiBytes(shape.body) : null,
    timeMs: shape.timeMs,
    ...(shape.mode === 'query' ? { expiresSeconds: shape.expiresSeconds, sessionTokenLast: true } : {}),
  };
  const floor = new HashFloor({
    payload: shape.floor.payload ? asciiBytes(shape.body) : null,
    canonicalRequest: asciiBytes(shape.floor.canonicalRequest),
    stringToSign: asciiBytes(shape.floor.stringToSign),
    signingKey: hexBytes(shape.floor.signingKeyHex),
  });
  const run = shape.mode === 'header' ? () => signer.sign(request) : () => signer.presign(request);
  return { shape, signer, request, floor, run };
}

/** Module state lives in this one object, created when the bundle is evaluated. */
class OursBench {
  private prepared: Prepared[] = [];

  private find(name: unknown): Prepared {
    const p = this.prepared.find((x) => x.shape.name === name);
    if (!p) throw new Error(`unknown shape ${String(name)}`);
    return p;
  }

  setup(shapes: XsShape[]): void {
    this.prepared = shapes.map(prepare);
    for (const p of this.prepared) {
      const census = typedArrayCensus(p.signer);
      send({ kind: 'memory', shape: p.shape.name, bytes: census.bytes, parts: census.parts.slice(0, 64), objects: census.objects });
    }
  }

  measure(warmup: number, iterations: number): void {
    for (const p of this.prepared) {
      for (let i = 0; i < warmup; i++) {
        p.run();
        p.floor.run();
      }
      const out = p.run();
      const signature = out.signature();
      const signed = p.shape.mode === 'header' ? out.authorization() : out.pathAndQuery();
      p.floor.run();
      const floorSignature = toHex(p.floor.digest);
      const sign = measureSync(p.run, iterations);
      const withStrings = measureSync(() => {
        const o = p.run();
        if (p.shape.mode === 'header') o.headers();
        else o.pathAndQuery();
      }, iterations);
      const floor = measureSync(() => p.floor.run(), iterations);
      send({ kind: 'measured', shape: p.shape.name, signature, signed, floorSignature, sign, withStrings, floor });
    }
  }

  heap(name: unknown, n: number): void {
    const p = this.find(name);
    for (let i = 0; i < n; i++) p.run();
    collectGarbage();
  }

  /** `floor`: run the hash floor instead of the signer (how much of the garbage is noble's own). */
  garbage(name: unknown, n: number, floor: boolean): void {
    const p = this.find(name);
    const run = floor ? () => p.floor.run() : p.run;
    collectGarbage();
    for (let i = 0; i < n; i++) run();
  }
}

const bench = new OursBench();

function handleCommand(message: ArrayBuffer): ArrayBuffer {
  const command = receive(message);
  try {
    if (command.kind === 'setup') bench.setup(command.shapes as XsShape[]);
    else if (command.kind === 'measure') bench.measure(Number(command.warmup), Number(command.iterations));
    else if (command.kind === 'heap') bench.heap(command.shape, Number(command.n));
    else if (command.kind === 'garbage') bench.garbage(command.shape, Number(command.n), command.floor === true);
    else throw new Error(`unknown command ${command.kind}`);
    send({ kind: 'done', command: command.kind });
  } catch (e) {
    send({ kind: 'error', command: command.kind, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
  return new ArrayBuffer(0);
}

(globalThis as unknown as { handleCommand: typeof handleCommand }).handleCommand = handleCommand;
