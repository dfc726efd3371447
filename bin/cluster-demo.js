#!/usr/bin/env node
// The built CLI is dist/cli.js. A clone installed with --ignore-scripts (or a broken install) has no dist/: say
// so in one line, not with a module-resolution stack.
const cli = new URL('../dist/cli.js', import.meta.url);
try {
  await import(cli.href);
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(cli.pathname)) throw err;
  console.error(`error: ${cli.pathname} is missing: run \`npm run build\` in a clone, or reinstall the package`);
  process.exitCode = 1;
}
