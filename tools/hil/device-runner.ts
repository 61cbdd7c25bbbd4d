// Runs on the target (XS engine, simulator or board): executes portable suites
// and prints a line per case, then `N passed, N failed` and `HIL-END`.
// Output goes through `trace` (Moddable) or `print` (xsnap): nothing else is
// assumed of the target. A case that throws a non-check error counts as failed;
// an exception that escapes the whole run is reported as a failure line, so a
// host that sees no `HIL-END` knows the run did not finish.
import { makeCheck, type PortableSuite } from '../../test/harness/portable.js';

type Out = (line: string) => void;

function output(): Out {
  const g = globalThis as unknown as { trace?: (s: string) => void; print?: (s: string) => void };
  // xsnap has both, and its `trace` goes nowhere we can read: prefer `print`.
  if (typeof g.print === 'function') return (line) => g.print!(line);
  if (typeof g.trace === 'function') return (line) => g.trace!(`${line}\n`);
  return () => {};
}

export async function runDeviceTests(suites: Array<[string, PortableSuite, unknown]>): Promise<void> {
  const out = output();
  let passed = 0;
  let failed = 0;
  out('HIL-BEGIN');
  try {
    for (const [name, suite, data] of suites) {
      for (const c of suite(data)) {
        try {
          await c.run(makeCheck());
          passed++;
          out(`ok - ${name}: ${c.name}`);
        } catch (e) {
          failed++;
          out(`not ok - ${name}: ${c.name}: ${e instanceof Error ? e.message : String(e)}`.split('\n').join(' '));
        }
      }
    }
  } catch (e) {
    failed++;
    out(`not ok - (runner): ${e instanceof Error ? e.message : String(e)}`);
  }
  out(`${passed} passed, ${failed} failed`);
  out('HIL-END');
}
