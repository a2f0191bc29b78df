/**
 * `npm run build`: bundle lambda/handler.ts into dist/handler.mjs with the deployment's esbuild settings, and the
 * operator CLI (cli/main.ts) into dist/cli.mjs.
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import {
  BUNDLE_FILE_NAME,
  CLI_BUNDLE_FILE_NAME,
  PROJECT_ROOT,
  cliBuildOptions,
  lambdaBuildOptions,
} from './esbuild-options.ts';

const outfile = join(PROJECT_ROOT, 'dist', BUNDLE_FILE_NAME);
const cliOutfile = join(PROJECT_ROOT, 'dist', CLI_BUNDLE_FILE_NAME);
await Promise.all([build(lambdaBuildOptions(outfile)), build(cliBuildOptions(cliOutfile))]);
console.log(`built ${outfile}`);
console.log(`built ${cliOutfile}`);
