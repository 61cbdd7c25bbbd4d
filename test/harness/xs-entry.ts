// Runs a portable suite inside the XS engine and reports to the Node host.
//
// Every message goes through issueCommand (a synchronous call to the host).
// The host counts a suite as passed only when it receives the final `done`
// report with matching counts: an engine that exits early, or a module that
// throws before reporting, fails the run instead of passing silently.
import { makeCheck, type PortableSuite } from './portable.js';

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

function encode(text: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(text);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function call(message: object): string {
  return new TextDecoder().decode(new Uint8Array(issueCommand(encode(JSON.stringify(message)))));
}

export async function runOnXs(suite: PortableSuite): Promise<void> {
  let passed = 0;
  let failed = 0;
  try {
    const data: unknown = JSON.parse(call({ kind: 'data' }));
    const cases = suite(data);
    for (const c of cases) {
      try {
        await c.run(makeCheck());
        passed++;
        call({ kind: 'result', name: c.name, ok: true });
      } catch (e) {
        failed++;
        const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        call({ kind: 'result', name: c.name, ok: false, error });
      }
    }
  } catch (e) {
    failed++;
    call({ kind: 'result', name: '(suite setup)', ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) });
  }
  call({ kind: 'done', passed, failed });
}
