#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript, compiled to dist/ by `npm run build` (run by `npm ci`).
import { main } from '../dist/tools/tuf-client/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code ?? 0),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
