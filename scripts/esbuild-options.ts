/**
 * The one place the Lambda bundle's esbuild settings live: `npm run build` and the CDK construct both use them, so
 * what the tests run is what gets deployed.
 */
import type { BuildOptions, OnResolveArgs, OnResolveResult, Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HANDLER_ENTRY = fileURLToPath(new URL('../lambda/handler.ts', import.meta.url));
export const BUNDLE_FILE_NAME = 'handler.mjs';
/** Code the handler loads on demand (a dynamic import()) lands here, beside the bundle; the asset ships it too. */
export const CHUNKS_DIR_NAME = 'chunks';
export const CLI_ENTRY = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
export const CLI_BUNDLE_FILE_NAME = 'cli.mjs';

const PACKAGE_VERSION_NAMESPACE = 'package-version';
const VERSION_MODULE = fileURLToPath(new URL('../lambda/version.ts', import.meta.url));

/**
 * package.json as lambda/version.ts imports it: a bundle gets its `version` only. esbuild keeps every field of a
 * JSON file imported whole (its name, scripts, dependencies...), and the Lambda would parse them at every cold start.
 */
export const packageVersionOnly: Plugin = {
  name: 'package-version-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/package\.json$/ }, (args) =>
      // Relative, so the source maps name no directory of the machine that built the bundle.
      args.importer === VERSION_MODULE ? { path: 'package.json', namespace: PACKAGE_VERSION_NAMESPACE } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: PACKAGE_VERSION_NAMESPACE }, async () => {
      const { version } = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

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
  plugins: [packageVersionOnly],
  // Some AWS SDK dependencies (and undici) still call require(); give every ESM output file one.
  banner: {
    js: "import { createRequire as __rotatorCreateRequire } from 'node:module'; const require = __rotatorCreateRequire(import.meta.url);",
  },
};

const MCP_SDK_NAMESPACE = 'mcp-sdk';
/** Marks the plugin's own build.resolve() calls, so they take esbuild's resolution instead of recursing. */
const DEFAULT_RESOLUTION = Symbol('default resolution');

/**
 * Gives the MCP SDK (pre-flight's dynamic import) a module graph of its own. esbuild's code splitting puts a module
 * that two entries use into a shared chunk the handler loads at init, with the exports both need: the SDK's zod
 * (the full schemas and JSON Schema conversion) then rode along with the configuration's zod/mini and added 56 KB
 * to the cold start of every run, pre-flight or not. In a namespace of their own, the SDK's files and everything
 * they import are distinct modules, so they reach only the SDK's chunks.
 */
export const privateMcpSdk: Plugin = {
  name: 'private-mcp-sdk',
  setup(build) {
    const intoNamespace = async (args: OnResolveArgs): Promise<OnResolveResult | undefined> => {
      if (args.pluginData === DEFAULT_RESOLUTION) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: DEFAULT_RESOLUTION,
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (resolved.external) return { path: resolved.path, external: true };
      // Relative, so the source maps name no directory of the machine that built the bundle.
      const path = relative(PROJECT_ROOT, resolved.path);
      return { path, namespace: MCP_SDK_NAMESPACE, sideEffects: resolved.sideEffects };
    };
    build.onResolve({ filter: /^@modelcontextprotocol\/sdk\// }, intoNamespace);
    build.onResolve({ filter: /.*/, namespace: MCP_SDK_NAMESPACE }, intoNamespace);
    build.onLoad({ filter: /.*/, namespace: MCP_SDK_NAMESPACE }, async (args) => ({
      contents: await readFile(join(PROJECT_ROOT, args.path)),
      loader: extname(args.path) === '.json' ? 'json' : 'js',
      resolveDir: dirname(join(PROJECT_ROOT, args.path)),
    }));
  },
};

/**
 * The Lambda bundle: `<outdir>/handler.mjs`, plus `<outdir>/chunks/*.mjs` for what it imports on demand (the HTTP
 * client, which loads while the run's first AWS reads are in flight instead of during the cold start, and the MCP
 * SDK, loaded only by a run with pre-flight on). Its plugin needs esbuild's asynchronous API (`build`, not
 * `buildSync`).
 */
export function lambdaBuildOptions(outdir: string): BuildOptions {
  return {
    ...commonOptions,
    plugins: [packageVersionOnly, privateMcpSdk],
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
