/**
 * `node scripts/build-lambda.ts <outdir>`: the Lambda bundle alone, into <outdir>. The CDK construct runs it when it
 * bundles from the source: CDK's local bundling is synchronous, and the bundle's plugin needs esbuild's asynchronous
 * API, so the construct waits for this process instead.
 */
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { lambdaBuildOptions } from './esbuild-options.ts';

const [outdir] = process.argv.slice(2);
if (outdir === undefined) {
  console.error('usage: node scripts/build-lambda.ts <outdir>');
  process.exit(2);
}
await build(lambdaBuildOptions(resolve(outdir)));
