/**
 * The built bundle keeps its HTTP client (undici) out of the cold start: importing dist/handler.mjs, as Lambda's
 * init phase does, does not load undici's chunk; an invocation starts loading it at once, before it reads anything
 * (the rotation suites show the run then works over it). Observed with a module loader hook in a fresh process.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { DEFAULT_BUNDLE } from '../../local/invoke-handler.ts';

/** Imports the bundle, calls the handler once with an event it rejects, and prints the module URLs loaded by each. */
const PROBE = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ load: (url, context, next) => (loaded.push(url), next(url, context)) });
const { handler } = await import(${JSON.stringify(pathToFileURL(DEFAULT_BUNDLE).href)});
const atInit = [...loaded];
const rejection = await handler({ action: 'not-an-action' }).then(() => 'resolved', (error) => error.message);
for (const end = Date.now() + 10_000; Date.now() < end && !loaded.some((u) => u.includes('/undici-')); ) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
process.stdout.write(JSON.stringify({ atInit, afterInvocation: loaded.slice(atInit.length), rejection }));
`;

describe('dist/handler.mjs', () => {
  it('loads undici on the first invocation, not when Lambda imports the bundle', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
    });
    const probe = JSON.parse(stdout) as { atInit: string[]; afterInvocation: string[]; rejection: string };
    const isUndici = (url: string): boolean => /\/chunks\/undici-\w+\.mjs$/.test(url);
    expect(probe.atInit).toContain(pathToFileURL(DEFAULT_BUNDLE).href);
    expect(probe.atInit.filter(isUndici)).toEqual([]);
    expect(probe.rejection).toMatch(/action/);
    expect(probe.afterInvocation.filter(isUndici)).toHaveLength(1);
  });

  it('loads nothing of the MCP SDK (pre-flight) or of the zod it brings when Lambda imports the bundle', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
    });
    const { atInit } = JSON.parse(stdout) as { atInit: string[] };
    const bundleFiles = atInit.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
    expect(bundleFiles.length).toBeGreaterThan(1);
    // Each file's source map names the modules in it; the SDK's graph is built in a namespace of its own.
    const sources = bundleFiles.flatMap(
      (file) => (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources,
    );
    expect(sources.filter((source) => /^mcp-sdk:|@modelcontextprotocol/.test(source))).toEqual([]);
    expect(sources.some((source) => source.includes('zod/v4/mini'))).toBe(true);
    expect(sources.filter((source) => source.includes('zod/v4/core/to-json-schema'))).toEqual([]);
  });

  it("carries package.json's version, not the rest of the manifest", () => {
    const bundle = readFileSync(DEFAULT_BUNDLE, 'utf8');
    expect(bundle).toContain(`{version:${JSON.stringify(packageJson.version)}}`);
    expect(bundle).not.toContain(packageJson.description);
    const { sources } = JSON.parse(readFileSync(`${DEFAULT_BUNDLE}.map`, 'utf8')) as { sources: string[] };
    expect(sources).toContain('package-version:package.json');
  });
});
