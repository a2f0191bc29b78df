/**
 * The Lambda asset: the bundle `npm run build` writes (scripts/esbuild-options.ts), `handler.mjs` and the chunks it
 * loads on demand (`chunks/`), with the validated configuration file copied beside it as `rotation.config.json`,
 * where the handler looks by default.
 *
 * Run from the repository (this file as TypeScript), the construct builds the bundle from the source at synth time,
 * with esbuild on the host (never in Docker). Run from the npm package (compiled JavaScript in lib/), it copies the
 * bundle the package was packed with (dist/): a consuming CDK app needs neither esbuild nor the source.
 */
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import type { BundlingOptions, ILocalBundling } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG_FILE } from '../lambda/constants.ts';
import { BUNDLE_FILE_NAME, CHUNKS_DIR_NAME, PROJECT_ROOT } from '../scripts/esbuild-options.ts';

/** `handler.handler`: the bundle's file name without extension, then the exported function. */
export const LAMBDA_HANDLER = `${BUNDLE_FILE_NAME.replace(/\.mjs$/, '')}.handler`;

/** Where the configuration file lands inside the asset (and so under /var/task in Lambda). */
export const BUNDLED_CONFIG_FILE_NAME = DEFAULT_CONFIG_FILE;

/** True in the repository, where Node runs this file as TypeScript; false in the npm package's compiled lib/. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The package's prebuilt bundle: this file is lib/infra/bundling.js there, the bundle is in dist/. */
export const PACKAGED_BUNDLE_DIR = fileURLToPath(new URL('../../dist/', import.meta.url));

/** What `npm run build` writes for the Lambda (the CLI's bundle beside it is not part of the asset). */
export const BUNDLE_OUTPUTS = [BUNDLE_FILE_NAME, `${BUNDLE_FILE_NAME}.map`, CHUNKS_DIR_NAME];

/** Builds or copies the bundle into the asset, then ships the configuration file. */
export class RotatorLocalBundling implements ILocalBundling {
  private readonly configFile: string;

  constructor(configFile: string) {
    this.configFile = configFile;
  }

  tryBundle(outputDir: string, _options: BundlingOptions): boolean {
    if (FROM_SOURCE) buildFromSource(outputDir);
    else copyPackagedBundle(outputDir);
    copyFileSync(this.configFile, join(outputDir, BUNDLED_CONFIG_FILE_NAME));
    return true;
  }
}

/** The script that builds the Lambda bundle alone (esbuild's asynchronous API, which its plugin needs). */
const BUILD_LAMBDA_SCRIPT = join(PROJECT_ROOT, 'scripts', 'build-lambda.ts');

function buildFromSource(outputDir: string): void {
  // esbuild is a development dependency, so only this process loads it: the package's compiled construct never
  // reaches this line. A failed build exits non-zero and execFileSync throws, so a broken handler fails the synth
  // instead of falling back to Docker.
  execFileSync(process.execPath, [BUILD_LAMBDA_SCRIPT, outputDir], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}

function copyPackagedBundle(outputDir: string): void {
  for (const name of BUNDLE_OUTPUTS) {
    const from = join(PACKAGED_BUNDLE_DIR, name);
    if (existsSync(from)) cpSync(from, join(outputDir, name), { recursive: true });
  }
}

/**
 * The function's code. The asset is hashed on the bundle's output (not on the source tree), so a change to the
 * handler, to a dependency or to the configuration file is a new asset, and the repository's node_modules is
 * never fingerprinted.
 */
export function rotatorCode(configFile: string): Code {
  const packagedEntry = join(PACKAGED_BUNDLE_DIR, BUNDLE_FILE_NAME);
  if (!FROM_SOURCE && !existsSync(packagedEntry)) {
    throw new Error(`The rotator's Lambda bundle ${packagedEntry} is missing: the package was packed without it`);
  }
  return Code.fromAsset(FROM_SOURCE ? join(PROJECT_ROOT, 'lambda') : PACKAGED_BUNDLE_DIR, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      local: new RotatorLocalBundling(configFile),
      // Required by the API but never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-alpine'),
    },
  });
}
