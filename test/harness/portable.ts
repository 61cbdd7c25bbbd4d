// A test harness small enough to run unchanged on Node and on the XS engine.
//
// A portable suite is a function from host-provided data (vectors read by the
// Node side, since XS has no file system) to a list of named cases. On Node
// each case becomes a node:test test; on XS the cases run inside the engine
// and report back through issueCommand (see test/harness/xs-suite-runner.ts).

export interface Check {
  ok(value: unknown, message?: string): void;
  equal(actual: unknown, expected: unknown, message?: string): void;
  deepEqual(actual: unknown, expected: unknown, message?: string): void;
  /** `fn` must throw; `match` decides whether the thrown value is the right one. */
  throws(fn: () => unknown, match: (error: unknown) => boolean, message?: string): void;
}

export interface PortableCase {
  name: string;
  run(t: Check): void | Promise<void>;
}

/** `data` is whatever the suite's Node-side loader produced (plain JSON). */
export type PortableSuite = (data: unknown) => PortableCase[];

export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

function show(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
  } catch {
    return String(value);
  }
}

function same(a: unknown, b: unknown, depth: number): boolean {
  if (depth > 64) return false;
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}

/** A Check that throws CheckFailure on the first failed assertion. Used on XS; Node may use it too. */
export function makeCheck(): Check {
  const fail = (message: string | undefined, detail: string): never => {
    throw new CheckFailure(message ? `${message}: ${detail}` : detail);
  };
  return {
    ok(value, message) {
      if (!value) fail(message, `expected truthy, got ${show(value)}`);
    },
    equal(actual, expected, message) {
      if (!Object.is(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`);
    },
    deepEqual(actual, expected, message) {
      if (!same(actual, expected, 0)) fail(message, `expected ${show(expected)}, got ${show(actual)}`);
    },
    throws(fn, match, message) {
      let threw = false;
      let error: unknown;
      try {
        fn();
      } catch (e) {
        threw = true;
        error = e;
      }
      if (!threw) fail(message, 'expected an exception, none was thrown');
      if (!match(error)) fail(message, `wrong exception: ${String(error)}`);
    },
  };
}

/** What a promise rejected with, or null when it resolved (suites then check the error's code). */
export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return null;
}
