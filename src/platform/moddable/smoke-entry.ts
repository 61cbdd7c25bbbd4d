// The `main` module of the smoke firmware. It sits at the module root (as
// mcconfig requires for `main`) and imports the smoke test by module name,
// so that the smoke test's own relative imports resolve inside
// platform/moddable/.
import smoke from 'platform/moddable/smoke-main';

export default function main(): void {
  smoke();
}
