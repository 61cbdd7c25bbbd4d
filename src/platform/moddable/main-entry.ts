// The firmware's `main` module (manifest.json "main"). It sits at the module
// root (mcconfig's `main`) and imports by module name, so the adapters'
// relative imports resolve inside platform/moddable/. The adapter smoke test
// is a separate firmware (test/moddable-smoke/manifest.json).
import { startAgent } from 'platform/moddable/agent-entry';

export default function main(): void {
  startAgent();
}
