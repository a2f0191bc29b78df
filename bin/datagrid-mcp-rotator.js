#!/usr/bin/env node
// The `datagrid-mcp-rotator` command: checks the Node version, then runs the CLI bundle (dist/cli.mjs).
// Plain JavaScript with nothing but a dynamic import, so an older Node reaches the version message instead of a
// syntax error.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    `datagrid-mcp-rotator needs Node.js ${REQUIRED_MAJOR} or newer (the Lambda runtime); this is ${process.version}.\n` +
      'Run it with the pinned Node of the project: npx datagrid-mcp-rotator ... (after npm ci), or install Node 24.\n',
  );
  process.exit(2);
}

const bundle = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`datagrid-mcp-rotator: ${bundle} is missing; run \`npm run build\` first.\n`);
  process.exit(2);
}

const { runCli } = await import(pathToFileURL(bundle).href);
process.exitCode = await runCli(process.argv);
