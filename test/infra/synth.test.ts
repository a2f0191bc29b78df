/**
 * The real `npx cdk synth`, as a user runs it from a clone (offline, no Docker, no AWS account): the example
 * configuration synthesizes, the asset is the `npm run build` bundle plus the configuration, an invalid
 * configuration fails with the handler's message, and cfn-lint finds no error in the template.
 */
import { buildSync } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { STACK_NAME } from '../../infra/rotator-app.ts';
import { ensurePythonTools, pythonToolCommand } from '../../local/python-tools.ts';
import { loadConfigFileSync } from '../../lambda/config.ts';
import { BUNDLE_FILE_NAME, PROJECT_ROOT, lambdaBuildOptions } from '../../scripts/esbuild-options.ts';
import { EXAMPLE_CONFIG, INVALID_CONFIG } from './helpers.ts';

// Synth bundles the handler and runs cdk-nag; on a 2-core machine two of them in parallel take a while.
const SYNTH_TIMEOUT_MS = 240_000;

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `npx cdk …` in the project root, Node 24 of node_modules/.bin first on PATH (cdk.json runs `node infra/app.ts`). */
function npxCdk(args: string[]): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn('npx', ['cdk', ...args], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        PATH: [join(PROJECT_ROOT, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
        CDK_DISABLE_VERSION_CHECK: 'true',
        CDK_DISABLE_CLI_TELEMETRY: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

function synth(configFile: string, outdir: string): Promise<RunResult> {
  return npxCdk(['synth', '--quiet', '--no-notices', '--output', outdir, '--context', `configFile=${configFile}`]);
}

describe('npx cdk synth', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'rotator-synth-'));
  const exampleOut = join(workDir, 'example');
  const invalidOut = join(workDir, 'invalid');
  const templateFile = join(exampleOut, `${STACK_NAME}.template.json`);
  let example: RunResult;
  let invalid: RunResult;

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

    it('ships the npm run build bundle and the validated config file as rotation.config.json in the asset', () => {
      const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
      };
      const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
      const assetHash = fn?.Properties.Code?.S3Key?.replace(/\.zip$/, '');
      const assetDir = join(exampleOut, `asset.${assetHash}`);
      expect(readFileSync(join(assetDir, 'rotation.config.json'), 'utf8')).toBe(readFileSync(EXAMPLE_CONFIG, 'utf8'));

      const reference = join(mkdtempSync(join(tmpdir(), 'rotator-build-')), BUNDLE_FILE_NAME);
      buildSync(lambdaBuildOptions(reference));
      expect(readFileSync(join(assetDir, BUNDLE_FILE_NAME), 'utf8')).toBe(readFileSync(reference, 'utf8'));
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
    it('finds no error in the synthesized template', async () => {
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
    });
  });
});
