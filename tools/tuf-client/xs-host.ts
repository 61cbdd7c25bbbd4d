// --engine xs: not built yet (see the report of this change).
import type { CliArgs } from './cli.js';

export async function runOnXs(_a: CliArgs): Promise<number> {
  process.stderr.write('tuf-client: --engine xs is not implemented yet\n');
  return 2;
}
