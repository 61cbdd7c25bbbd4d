// XS side of the signer benchmark: the wire format shared with the host
// (sigv4-xs-host.ts), the meter, and the typed-array census used for the
// working-memory figure. Runs only inside xsnap-worker (resetMeter, gc and
// issueCommand are its globals); imported by the *.xs.ts bench entries.
declare function resetMeter(newLimit: number, newIndex: number): number;
declare function gc(): void;
declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

/** A request shape as the host sends it to XS (plain JSON). */
export interface XsShape {
  name: string;
  mode: 'header' | 'query';
  method: string;
  /** Wire path with query. */
  wirePath: string;
  headers: Array<[string, string]>;
  /** ASCII body text ('' = none). */
  body: string;
  region: string;
  service: string;
  signBody: boolean;
  sessionToken: string | null;
  omitSessionToken: boolean;
  expiresSeconds: number;
  timeMs: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Signer limits sized for exactly this shape (see sigv4-sizing.ts). */
  limits: Record<string, number>;
  /** Floor inputs, checked on the host against aws-crt's signature. */
  floor: { payload: boolean; canonicalRequest: string; stringToSign: string; signingKeyHex: string };
}

export type Report = Record<string, unknown> & { kind: string };

export function send(report: Report): void {
  const bytes = new TextEncoder().encode(JSON.stringify(report));
  issueCommand(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

export function receive(message: ArrayBuffer): Report {
  return JSON.parse(new TextDecoder().decode(new Uint8Array(message))) as Report;
}

/** Latin-1/ASCII text to bytes (all bench texts are ASCII). Not measured. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

export function hexBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return s;
}

/** Reads the computrons used since the last reset and restarts the count (no limit). */
export function meterLap(): number {
  // Values above 2^31 come back negative: the count is unsigned.
  return resetMeter(0, 0) >>> 0;
}

export function collectGarbage(): void {
  gc();
}

export interface Measured {
  /** Computrons of one call after subtracting the empty-measurement overhead. */
  perCall: number;
  min: number;
  max: number;
  /** Computrons of an empty measurement (two meter reads), subtracted above. */
  overhead: number;
}

function noop(): void {}

function lapOf(fn: () => void): number {
  meterLap();
  fn();
  return meterLap();
}

/** Mean computrons of `fn` over `iterations` calls, each metered on its own (so nothing overflows). */
export function measureSync(fn: () => void, iterations: number): Measured {
  const overhead = lapOf(noop);
  let total = 0;
  let min = Infinity;
  let max = 0;
  for (let i = 0; i < iterations; i++) {
    const c = lapOf(fn) - overhead;
    total += c;
    if (c < min) min = c;
    if (c > max) max = c;
  }
  return { perCall: total / iterations, min, max, overhead };
}

/** Same for an async function (smithy's signer): only its own jobs run between the two reads. */
export async function measureAsync(fn: () => Promise<unknown>, iterations: number): Promise<Measured> {
  meterLap();
  await noop();
  const overhead = meterLap();
  let total = 0;
  let min = Infinity;
  let max = 0;
  for (let i = 0; i < iterations; i++) {
    meterLap();
    await fn();
    const c = meterLap() - overhead;
    total += c;
    if (c < min) min = c;
    if (c > max) max = c;
  }
  return { perCall: total / iterations, min, max, overhead };
}

/** Bound on the object-graph walk of the census (depth and visited objects). */
export const CENSUS_MAX_DEPTH = 8;
export const CENSUS_MAX_OBJECTS = 4096;

export interface Census {
  /** Sum of the byte lengths of the distinct ArrayBuffers reachable from the root. */
  bytes: number;
  /** Largest contributors, `path: bytes`, biggest first. */
  parts: Array<[string, number]>;
  objects: number;
}

/**
 * Walks own properties from `root` (objects, arrays, typed arrays; bounded)
 * and adds up the ArrayBuffers found, each counted once: the bytes an
 * object preallocated, independent of engine object overhead.
 */
export function typedArrayCensus(root: object): Census {
  const seenObjects = new Set<object>();
  const seenBuffers = new Set<ArrayBufferLike>();
  const parts: Array<[string, number]> = [];
  let bytes = 0;
  const visit = (value: unknown, path: string, depth: number): void => {
    if (value === null || typeof value !== 'object') return;
    if (seenObjects.has(value) || seenObjects.size >= CENSUS_MAX_OBJECTS || depth > CENSUS_MAX_DEPTH) return;
    seenObjects.add(value);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      const buffer = value instanceof ArrayBuffer ? value : value.buffer;
      if (!seenBuffers.has(buffer)) {
        seenBuffers.add(buffer);
        bytes += buffer.byteLength;
        parts.push([path, buffer.byteLength]);
      }
      return;
    }
    for (const key of Object.getOwnPropertyNames(value)) {
      let child: unknown;
      try {
        child = (value as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      visit(child, `${path}.${key}`, depth + 1);
    }
  };
  visit(root, '', 0);
  parts.sort((a, b) => b[1] - a[1]);
  return { bytes, parts, objects: seenObjects.size };
}
