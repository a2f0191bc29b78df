/**
 * The construct as another CDK app uses it: `npm pack` of a copy of this checkout (its prepack builds the Lambda
 * bundle and compiles lib/), `npm install` of the tarball into a scratch app in a temp directory, then a plain
 * JavaScript app that imports `McpCredentialRotator` from 'datagrid-mcp-rotator' synthesizes (Node's type
 * stripping off), and a TypeScript app type-checks against the shipped declarations.
 *
 * Offline where it can be: the tarball's dependencies come from npm's cache (`--prefer-offline`: the registry only
 * for what the cache lacks), and the peer dependencies aws-cdk-lib and constructs are this checkout's, linked.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleImports } from '../../bench/bundle-graph.ts';
import { BUNDLE_FILE_NAME, PROJECT_ROOT } from '../../scripts/esbuild-options.ts';
import { runCommand } from '../support/run-command.ts';
import type { RunResult } from '../support/run-command.ts';
import { EXAMPLE_CONFIG } from './helpers.ts';

// Pack (esbuild + tsc), install and synth: about 20 s of CPU; a loaded 2-core machine stretches that.
const PACKAGE_TIMEOUT_MS = 240_000;

function run(command: string, args: string[], cwd: string): Promise<RunResult> {
  return runCommand(command, args, cwd, { npm_config_update_notifier: 'false', CDK_DISABLE_VERSION_CHECK: 'true' });
}

async function succeed(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

/** The checkout's files as git sees them (tracked and new, ignored ones left out: no dist/, lib/, node_modules/). */
async function copyCheckout(to: string): Promise<void> {
  const files = (await succeed('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], PROJECT_ROOT))
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(PROJECT_ROOT, file)));
  for (const file of files) cpSync(join(PROJECT_ROOT, file), join(to, file));
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(to, 'node_modules'), 'dir');
}

const CONSUMER_JS = `
import { App, Stack } from 'aws-cdk-lib';
import { McpCredentialRotator } from 'datagrid-mcp-rotator';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
new McpCredentialRotator(stack, 'Rotator', { configFile: 'rotation.config.json' });
app.synth();
`;

const CONSUMER_TS = `
import { App, Stack } from 'aws-cdk-lib';
import { McpCredentialRotator } from 'datagrid-mcp-rotator';
import type { McpCredentialRotatorProps } from 'datagrid-mcp-rotator';

const stack = new Stack(new App(), 'Consumer');
const props: McpCredentialRotatorProps = { configFile: 'rotation.config.json' };
export const functionName: string = new McpCredentialRotator(stack, 'Rotator', props).function.functionName;
// @ts-expect-error configFile is a path: unless the declarations resolve, this is not an error and tsc fails here
new McpCredentialRotator(stack, 'Wrong', { configFile: 42 });
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    strict: true,
    noEmit: true,
    // aws-cdk-lib's own declarations need newer libs than this scratch app names; ours are read either way.
    skipLibCheck: true,
    types: [],
  },
  files: ['app.ts'],
};

describe('the npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'rotator-package-'));
  const source = join(work, 'source');
  const app = join(work, 'app');
  const installed = join(app, 'node_modules', 'datagrid-mcp-rotator');
  let tarballFiles: string[];
  let synth: RunResult;
  let typecheck: RunResult;
  let cliVersion: RunResult;

  beforeAll(async () => {
    mkdirSync(source);
    await copyCheckout(source);
    // The prepack scripts print to stdout too: npm's JSON report is the last thing, starting on a line of its own.
    const packOutput = await succeed('npm', ['pack', '--json', '--pack-destination', work], source);
    const packed = JSON.parse(packOutput.slice(packOutput.lastIndexOf('\n[\n') + 1)) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarballFiles = packed[0]!.files.map((f) => f.path);

    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'scratch-cdk-app', private: true, type: 'module' }),
    );
    await succeed(
      'npm',
      [
        'install',
        join(work, packed[0]!.filename),
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        // The peers are linked below, as an app that already has aws-cdk-lib would provide them.
        '--legacy-peer-deps',
      ],
      app,
    );
    for (const peer of ['aws-cdk-lib', 'constructs']) {
      symlinkSync(join(PROJECT_ROOT, 'node_modules', peer), join(app, 'node_modules', peer), 'dir');
    }
    cpSync(EXAMPLE_CONFIG, join(app, 'rotation.config.json'));
    writeFileSync(join(app, 'app.mjs'), CONSUMER_JS);
    writeFileSync(join(app, 'app.ts'), CONSUMER_TS);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
    [synth, typecheck, cliVersion] = await Promise.all([
      run(process.execPath, ['--no-experimental-strip-types', 'app.mjs'], app),
      run(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app),
      run(join(app, 'node_modules', '.bin', 'datagrid-mcp-rotator'), ['--version'], app),
    ]);
  }, PACKAGE_TIMEOUT_MS);

  it('holds compiled JavaScript, declarations and the prebuilt Lambda bundle, and no TypeScript source', () => {
    expect(tarballFiles).toEqual(
      expect.arrayContaining(['lib/infra/index.js', 'lib/infra/index.d.ts', 'dist/handler.mjs', 'dist/cli.mjs']),
    );
    expect(tarballFiles.some((f) => /^dist\/chunks\/undici-\w+\.mjs$/.test(f))).toBe(true);
    expect(tarballFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(Object.keys(manifest.peerDependencies as object).sort()).toEqual(['aws-cdk-lib', 'constructs']);
  });

  it('synthesizes a plain JavaScript CDK app that imports McpCredentialRotator, with type stripping off', () => {
    expect(synth.status, synth.stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'Consumer.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Handler?: string; Code?: { S3Key?: string } } }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    expect(fn?.Properties.Handler).toBe('handler.handler');

    // The asset is the bundle the package shipped, every file it imports (undici's chunk included), and the config.
    const asset = join(app, 'cdk.out', `asset.${fn?.Properties.Code?.S3Key?.replace(/\.zip$/, '')}`);
    expect(readFileSync(join(asset, BUNDLE_FILE_NAME))).toEqual(
      readFileSync(join(installed, 'dist', BUNDLE_FILE_NAME)),
    );
    const imports = bundleImports(asset);
    expect(imports.dynamic.some((f) => /^chunks\/undici-\w+\.mjs$/.test(f))).toBe(true);
    for (const file of [...imports.static, ...imports.dynamic]) expect(existsSync(join(asset, file)), file).toBe(true);
    expect(readFileSync(join(asset, 'rotation.config.json'), 'utf8')).toBe(readFileSync(EXAMPLE_CONFIG, 'utf8'));
  });

  it('type-checks a TypeScript app against the shipped declarations', () => {
    expect(typecheck.status, `${typecheck.stdout}${typecheck.stderr}`).toBe(0);
  });

  it('installs the operator CLI as a bin', () => {
    const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    expect(cliVersion.status, cliVersion.stderr).toBe(0);
    expect(cliVersion.stdout.trim()).toBe(version);
  });
});
