/**
 * The real `npx cdk synth`, as a user runs it from a clone (offline, no Docker, no AWS account): the example
 * configuration synthesizes, the asset is the `npm run build` bundle plus the configuration, an invalid
 * configuration fails with the handler's message, and cfn-lint finds no error in the template.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { STACK_NAME } from '../../infra/rotator-app.ts';
import { ensurePythonTools, pythonToolCommand } from '../../local/python-tools.ts';
import { loadConfigFileSync } from '../../lambda/config.ts';
import { BUNDLE_FILE_NAME, CHUNKS_DIR_NAME, PROJECT_ROOT, lambdaBuildOptions } from '../../scripts/esbuild-options.ts';
import { bundleImports } from '../../bench/bundle-graph.ts';
import { runCommand } from '../support/run-command.ts';
import type { RunResult } from '../support/run-command.ts';
import { EXAMPLE_CONFIG, INVALID_CONFIG } from './helpers.ts';

// Synth bundles the handler and runs cdk-nag; on a 2-core machine two of them in parallel take a while.
const SYNTH_TIMEOUT_MS = 240_000;

/** `npx cdk …` in the project root (cdk.json runs `node infra/app.ts` on the Node that runCommand puts first). */
function npxCdk(args: string[]): Promise<RunResult> {
  return runCommand('npx', ['cdk', ...args], PROJECT_ROOT, {
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  });
}

function synth(configFile: string, outdir: string): Promise<RunResult> {
  return npxCdk(['synth', '--quiet', '--no-notices', '--output', outdir, '--context', `configFile=${configFile}`]);
}

/**
 * The JavaScript files of a bundle directory, names and contents, with the content hashes in chunk names masked and
 * sorted: esbuild's hash covers the source map, whose paths are relative to the output directory, so the same build
 * elsewhere names its chunks differently.
 */
function codeFiles(dir: string): { names: string[]; contents: string[] } {
  const mask = (text: string): string => text.replace(/-[A-Z0-9]{8}\.mjs/g, '-HASH.mjs');
  const files = [BUNDLE_FILE_NAME, ...readdirSync(join(dir, CHUNKS_DIR_NAME)).map((n) => `${CHUNKS_DIR_NAME}/${n}`)];
  const code = files.filter((n) => n.endsWith('.mjs'));
  return {
    names: code.map(mask).sort(),
    contents: code.map((n) => mask(readFileSync(join(dir, n), 'utf8'))).sort(),
  };
}

describe('npx cdk synth', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'rotator-synth-'));
  const exampleOut = join(workDir, 'example');
  const invalidOut = join(workDir, 'invalid');
  const templateFile = join(exampleOut, `${STACK_NAME}.template.json`);
  let example: RunResult;
  let invalid: RunResult;

  /** The directory of the function's asset in the cloud assembly. */
  function functionAssetDir(): string {
    const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    const assetHash = fn?.Properties.Code?.S3Key?.replace(/\.zip$/, '');
    return join(exampleOut, `asset.${assetHash}`);
  }

  beforeAll(async () => {
    [example, invalid] = await Promise.all([
      synth('rotation.config.example.json', exampleOut),
      synth('test/infra/fixtures/invalid.config.json', invalidOut),
    ]);
  }, SYNTH_TIMEOUT_MS);

  describe('with rotation.config.example.json', () => {
    it('exits 0 and writes the template', () => {
      expect(example.status, example.stderr).toBe(0);
      expect(existsSync(templateFile)).toBe(true);
    });

    it('ships the npm run build bundle, its chunks and the validated config file as rotation.config.json', async () => {
      const assetDir = functionAssetDir();
      expect(readFileSync(join(assetDir, 'rotation.config.json'), 'utf8')).toBe(readFileSync(EXAMPLE_CONFIG, 'utf8'));

      const reference = mkdtempSync(join(tmpdir(), 'rotator-build-'));
      await build(lambdaBuildOptions(reference));
      expect(codeFiles(assetDir)).toEqual(codeFiles(reference));
    });

    it('holds every file the bundle imports, the on-demand HTTP client (undici) and MCP SDK (pre-flight) included', () => {
      const assetDir = functionAssetDir();
      const imports = bundleImports(assetDir);
      expect(imports.dynamic.some((file) => /^chunks\/undici-\w+\.mjs$/.test(file))).toBe(true);
      expect(imports.dynamic.some((file) => /^chunks\/streamableHttp-\w+\.mjs$/.test(file))).toBe(true);
      for (const file of [...imports.static, ...imports.dynamic])
        expect(existsSync(join(assetDir, file)), file).toBe(true);
    });
  });

  describe('with an invalid config file', () => {
    it('fails with the message the handler gives for that file, and writes no template', () => {
      let expected = '';
      try {
        loadConfigFileSync(INVALID_CONFIG);
      } catch (error) {
        expected = (error as Error).message;
      }
      expect(expected).toMatch(/^Invalid rotation config .*invalid\.config\.json:\n/);
      expect(invalid.status).not.toBe(0);
      expect(invalid.stderr).toContain(expected);
      expect(existsSync(join(invalidOut, `${STACK_NAME}.template.json`))).toBe(false);
    });
  });

  describe('cfn-lint', () => {
    it(
      'finds no error in the synthesized template',
      async () => {
        await ensurePythonTools();
        const lint = spawnSync(pythonToolCommand('cfn-lint'), ['--format', 'parseable', templateFile], {
          encoding: 'utf8',
        });
        if (lint.error && 'code' in lint.error && lint.error.code === 'ENOENT') {
          throw new Error('cfn-lint not found: run with python3 on the PATH, or pip install -r requirements-dev.txt');
        }
        const errors = lint.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
        expect(errors).toEqual([]);
        // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; anything else means it broke.
        expect((lint.status ?? 1) & ~(4 | 8), lint.stderr).toBe(0);
        // cfn-lint checks every resource against its schema: slow on a loaded machine.
      },
      SYNTH_TIMEOUT_MS,
    );
  });
});
