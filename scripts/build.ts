/**
 * `npm run build`: bundle lambda/handler.ts into dist/handler.mjs (and the chunks it loads on demand, in
 * dist/chunks/) with the deployment's esbuild settings, and the operator CLI (cli/main.ts) into dist/cli.mjs.
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BUNDLE_FILE_NAME,
  CHUNKS_DIR_NAME,
  CLI_BUNDLE_FILE_NAME,
  CLI_CHUNKS_DIR_NAME,
  PROJECT_ROOT,
  cliBuildOptions,
  lambdaBuildOptions,
} from './esbuild-options.ts';

const outdir = join(PROJECT_ROOT, 'dist');
const cliOutfile = join(outdir, CLI_BUNDLE_FILE_NAME);
// Chunk names carry a content hash: without this, every build would leave the last one's chunks behind.
await Promise.all(
  [CHUNKS_DIR_NAME, CLI_CHUNKS_DIR_NAME].map((dir) => rm(join(outdir, dir), { recursive: true, force: true })),
);
await Promise.all([build(lambdaBuildOptions(outdir)), build(cliBuildOptions(outdir))]);
console.log(`built ${join(outdir, BUNDLE_FILE_NAME)} (and ${join(outdir, CHUNKS_DIR_NAME)}/)`);
console.log(`built ${cliOutfile}`);
