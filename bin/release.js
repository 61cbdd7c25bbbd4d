#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript, compiled to dist/ by `npm run build` (run by `npm ci`).
import { main } from '../dist/tools/release/cli.js';

process.exitCode = main(process.argv.slice(2));
