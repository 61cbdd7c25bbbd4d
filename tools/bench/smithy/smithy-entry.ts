// XS entry for @smithy/signature-v4 (bundled by esbuild, see bundle.ts; not a
// *.xs.ts file, so rollup leaves it alone). Same commands and reports as
// sigv4-ours.xs.ts (setup, measure), with smithy's own SHA-256 floor
// measured inside this bundle, i.e. with the very same @noble/hashes code
// smithy is given.
import { SignatureV4 } from '@smithy/signature-v4';
// smithy's own query serialiser and encoder (a dependency of @smithy/signature-v4).
import { buildQueryString, escapeUri } from '@smithy/core/protocols';
import { HashFloor } from '../sigv4-floor.js';
import { asciiBytes, hexBytes, measureAsync, measureSync, receive, send, toHex, type XsShape } from '../sigv4-xs-meter.js';
import { nobleChecksumClass } from './noble-checksum.js';

interface SmithyRequest {
  method: string;
  protocol: string;
  hostname: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: Uint8Array;
}

interface Prepared {
  shape: XsShape;
  run: () => Promise<string>;
  floor: HashFloor;
}

function requestOf(shape: XsShape, body: Uint8Array | null): SmithyRequest {
  const q = shape.wirePath.indexOf('?');
  const query: Record<string, string> = {};
  if (q >= 0) {
    for (const part of shape.wirePath.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      query[eq < 0 ? part : part.slice(0, eq)] = eq < 0 ? '' : part.slice(eq + 1);
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of shape.headers) headers[name] = value;
  return {
    method: shape.method,
    protocol: 'https:',
    hostname: headers['Host'] ?? '',
    path: q < 0 ? shape.wirePath : shape.wirePath.slice(0, q),
    query,
    headers,
    ...(body ? { body } : {}),
  };
}

function prepare(shape: XsShape): Prepared {
  // smithy cannot keep the token out of a presign's canonical query: sign
  // without it and let the caller append it, as the IoT docs advise.
  const withToken = shape.sessionToken !== null && !shape.omitSessionToken;
  const signer = new SignatureV4({
    service: shape.service,
    region: shape.region,
    sha256: nobleChecksumClass(),
    applyChecksum: shape.signBody,
    credentials: {
      accessKeyId: shape.accessKeyId,
      secretAccessKey: shape.secretAccessKey,
      ...(withToken ? { sessionToken: shape.sessionToken! } : {}),
    },
  });
  const body = shape.body.length ? asciiBytes(shape.body) : null;
  const signingDate = new Date(shape.timeMs);
  // smithy copies the request it is given, so one prepared request is reused.
  const request = requestOf(shape, body);
  const run =
    shape.mode === 'header'
      ? async () => {
          const signed = await signer.sign(request, { signingDate });
          return String(signed.headers['authorization']);
        }
      : async () => {
          // Like our presign output: the wire path and query, token appended after signing.
          const signed = await signer.presign(request, { signingDate, expiresIn: shape.expiresSeconds });
          const query = buildQueryString(signed.query ?? {});
          const token = shape.sessionToken !== null && shape.omitSessionToken ? `&X-Amz-Security-Token=${escapeUri(shape.sessionToken)}` : '';
          return `${signed.path}?${query}${token}`;
        };
  const floor = new HashFloor({
    payload: shape.floor.payload ? asciiBytes(shape.body) : null,
    canonicalRequest: asciiBytes(shape.floor.canonicalRequest),
    stringToSign: asciiBytes(shape.floor.stringToSign),
    signingKey: hexBytes(shape.floor.signingKeyHex),
  });
  return { shape, run, floor };
}

const SIGNATURE = /Signature=([0-9a-f]{64})/;
const QUERY_SIGNATURE = /[?&]X-Amz-Signature=([0-9a-f]{64})/;

class SmithyBench {
  private prepared: Prepared[] = [];

  setup(shapes: XsShape[]): void {
    this.prepared = shapes.map(prepare);
  }

  async measure(warmup: number, iterations: number): Promise<void> {
    for (const p of this.prepared) {
      for (let i = 0; i < warmup; i++) {
        await p.run();
        p.floor.run();
      }
      const signed = await p.run();
      const signature = (p.shape.mode === 'header' ? SIGNATURE : QUERY_SIGNATURE).exec(signed)?.[1] ?? '';
      p.floor.run();
      const floorSignature = toHex(p.floor.digest);
      const sign = await measureAsync(p.run, iterations);
      const floor = measureSync(() => p.floor.run(), iterations);
      send({ kind: 'measured', shape: p.shape.name, signature, signed, floorSignature, sign, floor });
    }
  }
}

const bench = new SmithyBench();

async function execute(command: ReturnType<typeof receive>): Promise<void> {
  if (command.kind === 'setup') bench.setup(command.shapes as XsShape[]);
  else if (command.kind === 'measure') await bench.measure(Number(command.warmup), Number(command.iterations));
  else throw new Error(`unknown command ${command.kind}`);
}

function handleCommand(message: ArrayBuffer): ArrayBuffer {
  const command = receive(message);
  // The worker runs promise jobs to completion before ending the crank, so
  // the reports arrive within this command.
  execute(command).then(
    () => send({ kind: 'done', command: command.kind }),
    (e: unknown) => send({ kind: 'error', command: command.kind, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
  return new ArrayBuffer(0);
}

(globalThis as unknown as { handleCommand: typeof handleCommand }).handleCommand = handleCommand;
