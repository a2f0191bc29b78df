/**
 * The one place the Lambda bundle's esbuild settings live: `npm run build` and the CDK construct both use them, so
 * what the tests run is what gets deployed.
 */
import type { BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HANDLER_ENTRY = fileURLToPath(new URL('../lambda/handler.ts', import.meta.url));
export const BUNDLE_FILE_NAME = 'handler.mjs';
/** Code the handler loads on demand (a dynamic import()) lands here, beside the bundle; the asset ships it too. */
export const CHUNKS_DIR_NAME = 'chunks';
export const CLI_ENTRY = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
export const CLI_BUNDLE_FILE_NAME = 'cli.mjs';

/** What the Lambda and the CLI bundle have in common. */
const commonOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  // Prefer ESM entry points: smaller and tree-shakeable.
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
  // Some AWS SDK dependencies (and undici) still call require(); give every ESM output file one.
  banner: {
    js: "import { createRequire as __rotatorCreateRequire } from 'node:module'; const require = __rotatorCreateRequire(import.meta.url);",
  },
};

/**
 * The Lambda bundle: `<outdir>/handler.mjs`, plus `<outdir>/chunks/*.mjs` for what it imports on demand (the HTTP
 * client, which loads while the run's first AWS reads are in flight instead of during the cold start).
 */
export function lambdaBuildOptions(outdir: string): BuildOptions {
  return {
    ...commonOptions,
    entryPoints: { [BUNDLE_FILE_NAME.replace(/\.mjs$/, '')]: HANDLER_ENTRY },
    outdir,
    splitting: true,
    entryNames: '[name]',
    chunkNames: `${CHUNKS_DIR_NAME}/[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
  };
}

/** Where the operator CLI's chunks go: apart from the Lambda's, so the deployed asset never ships them. */
export const CLI_CHUNKS_DIR_NAME = 'cli-chunks';

/**
 * The operator CLI's bundle: `<outdir>/cli.mjs` (run by bin/datagrid-mcp-rotator.js) and `<outdir>/cli-chunks/`.
 * Split like the Lambda's: inlined into one file, the MCP SDK behind pre-flight's dynamic import() and the zod the
 * configuration uses were initialised out of order (the bundle failed at start-up). Separate from the Lambda's
 * options so nothing here can change what gets deployed.
 */
export function cliBuildOptions(outdir: string): BuildOptions {
  return {
    ...commonOptions,
    entryPoints: { [CLI_BUNDLE_FILE_NAME.replace(/\.mjs$/, '')]: CLI_ENTRY },
    outdir,
    splitting: true,
    entryNames: '[name]',
    chunkNames: `${CLI_CHUNKS_DIR_NAME}/[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
  };
}
