/**
 * The one place the Lambda bundle's esbuild settings live: `npm run build` and the CDK construct both use them, so
 * what the tests run is what gets deployed.
 */
import type { BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HANDLER_ENTRY = fileURLToPath(new URL('../lambda/handler.ts', import.meta.url));
export const BUNDLE_FILE_NAME = 'handler.mjs';
export const CLI_ENTRY = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
export const CLI_BUNDLE_FILE_NAME = 'cli.mjs';

export function lambdaBuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [HANDLER_ENTRY],
    outfile,
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
    // Some AWS SDK dependencies still call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __rotatorCreateRequire } from 'node:module'; const require = __rotatorCreateRequire(import.meta.url);",
    },
  };
}

/**
 * The operator CLI's bundle (dist/cli.mjs, run by bin/datagrid-mcp-rotator.js). Separate from the Lambda's options
 * so nothing here can change what gets deployed; it differs only in its entry point.
 */
export function cliBuildOptions(outfile: string): BuildOptions {
  return { ...lambdaBuildOptions(outfile), entryPoints: [CLI_ENTRY] };
}
