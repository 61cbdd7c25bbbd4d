// Shared by the launchers in bin/: each CLI is TypeScript, compiled to dist/
// by `npm run build` (which `npm ci` runs). main() returns an exit code, or a
// promise of one; an error it throws is one line on stderr and exit 2.
export function launch(main) {
  let result;
  try {
    result = main(process.argv.slice(2));
  } catch (error) {
    fail(error);
    return;
  }
  if (result && typeof result.then === 'function') {
    // Async CLIs may leave handles open (aws-crt, sockets): exit once main is done.
    result.then((code) => process.exit(code ?? 0), fail);
  } else {
    process.exitCode = result ?? 0;
  }
}

function fail(error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
}
