/** `npm run build`: bundle lambda/handler.ts into dist/handler.mjs with the deployment's esbuild settings. */
import { build } from 'esbuild';
import { join } from 'node:path';
import { BUNDLE_FILE_NAME, PROJECT_ROOT, lambdaBuildOptions } from './esbuild-options.ts';

const outfile = join(PROJECT_ROOT, 'dist', BUNDLE_FILE_NAME);
await build(lambdaBuildOptions(outfile));
console.log(`built ${outfile}`);
