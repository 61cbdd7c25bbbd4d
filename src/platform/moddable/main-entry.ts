// The firmware's `main` module (manifest.json "main"). It sits at
// the module root (mcconfig's `main`) and imports by module name, so the
// adapters' relative imports resolve inside platform/moddable/. mc/config
// `firmware` picks what runs: "agent" (default) or "smoke" (the adapter smoke
// test that test/moddable-build.test.ts runs in the simulator).
import config from 'mc/config';
import { startAgent } from 'platform/moddable/agent-entry';
import smoke from 'platform/moddable/smoke-main';

export default function main(): void {
  if ((config as Record<string, unknown>).firmware === 'smoke') smoke();
  else startAgent();
}
