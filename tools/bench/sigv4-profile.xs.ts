// XS entry (build/xs/sigv4-profile.js): where our signer's computrons go.
// Wraps every prototype method of the classes reachable from a Signer
// instance (found at run time, so this file depends only on the public API;
// @noble/hashes' classes included) with meter reads, and attributes *self*
// computrons (own bytecodes, excluding wrapped callees) per method. Module-level functions
// (hexInto, encodeUtf8Into, writeCanonicalPath, ...) cannot be wrapped and
// count towards their caller. Wrapping costs a few dozen computrons per call,
// so the totals exceed an unwrapped signature a little: read it as shares.
import { Signer } from '../../src/sigv4/index.js';
import { asciiBytes, meterLap, receive, send, type XsShape } from './sigv4-xs-meter.js';

/** Bounds of the prototype discovery walk from a Signer instance. */
const DISCOVERY_MAX_DEPTH = 3;
const DISCOVERY_MAX_OBJECTS = 512;

interface Slot {
  self: number;
  calls: number;
}

class Profiler {
  private clock = 0;
  private readonly childTime: number[] = [];
  readonly slots = new Map<string, Slot>();

  now(): number {
    this.clock += meterLap();
    return this.clock;
  }

  private readonly wrapped = new Set<object>();

  /** Wraps the prototypes (and their chains) of every object reachable from `root`. */
  wrapReachable(root: object): void {
    const seen = new Set<object>();
    const visit = (value: unknown, depth: number): void => {
      if (value === null || typeof value !== 'object' || seen.has(value) || seen.size >= DISCOVERY_MAX_OBJECTS || depth > DISCOVERY_MAX_DEPTH) return;
      if (ArrayBuffer.isView(value) || Array.isArray(value)) return;
      seen.add(value);
      for (let proto = Object.getPrototypeOf(value); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        if (this.wrapped.has(proto)) continue;
        this.wrapped.add(proto);
        const ctor = (proto as { constructor?: { name?: string } }).constructor;
        this.wrap(proto as Record<string, unknown>, ctor?.name || 'anonymous');
      }
      for (const key of Object.getOwnPropertyNames(value)) visit((value as Record<string, unknown>)[key], depth + 1);
    };
    visit(root, 0);
  }

  wrap(proto: Record<string, unknown>, label: string): void {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d || typeof d.value !== 'function') continue;
      const original = d.value as (...args: unknown[]) => unknown;
      const key = `${label}.${name}`;
      const profiler = this;
      proto[name] = function (this: unknown, ...args: unknown[]) {
        const t0 = profiler.now();
        profiler.childTime.push(0);
        try {
          return original.apply(this, args);
        } finally {
          const inclusive = profiler.now() - t0;
          const children = profiler.childTime.pop()!;
          const n = profiler.childTime.length;
          if (n > 0) profiler.childTime[n - 1]! += inclusive;
          const slot = profiler.slots.get(key) ?? { self: 0, calls: 0 };
          slot.self += inclusive - children;
          slot.calls++;
          profiler.slots.set(key, slot);
        }
      };
    }
  }
}

const profiler = new Profiler();

function handleCommand(message: ArrayBuffer): ArrayBuffer {
  const command = receive(message);
  try {
    const shape = command.shape as XsShape;
    const n = Number(command.n);
    const signer = new Signer({
      credentials: { accessKeyId: shape.accessKeyId, secretAccessKey: shape.secretAccessKey, ...(shape.sessionToken !== null ? { sessionToken: shape.sessionToken } : {}) },
      region: shape.region,
      service: shape.service,
      limits: shape.limits,
      signBody: shape.signBody,
      omitSessionToken: shape.omitSessionToken,
      // No bench shape streams an upload: sized as a device that never does (no chunk signer).
      chunkedUploads: false,
    });
    const request = {
      method: shape.method,
      path: shape.wirePath,
      headers: shape.headers,
      body: shape.body.length ? asciiBytes(shape.body) : null,
      timeMs: shape.timeMs,
      ...(shape.mode === 'query' ? { expiresSeconds: shape.expiresSeconds, sessionTokenLast: true } : {}),
    };
    const run = () => (shape.mode === 'header' ? signer.sign(request) : signer.presign(request));
    run(); // warm-up: derives the signing key
    profiler.wrapReachable(signer);
    profiler.slots.clear();
    profiler.now();
    for (let i = 0; i < n; i++) run();
    const rows = [...profiler.slots.entries()].map(([k, s]) => [k, Math.round(s.self / n), s.calls / n] as [string, number, number]).sort((a, b) => b[1] - a[1]);
    send({ kind: 'profile', shape: shape.name, rows });
    send({ kind: 'done', command: command.kind });
  } catch (e) {
    send({ kind: 'error', command: command.kind, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
  return new ArrayBuffer(0);
}

(globalThis as unknown as { handleCommand: typeof handleCommand }).handleCommand = handleCommand;
