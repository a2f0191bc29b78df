/**
 * The Lambda asset: the same esbuild bundle `npm run build` writes (scripts/esbuild-options.ts), built on the host
 * (never in Docker), with the validated configuration file copied beside it as `rotation.config.json`, where the
 * handler looks by default.
 */
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import type { BundlingOptions, ILocalBundling } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG_FILE } from '../lambda/constants.ts';
import { BUNDLE_FILE_NAME, PROJECT_ROOT, lambdaBuildOptions } from '../scripts/esbuild-options.ts';

/** `handler.handler`: the bundle's file name without extension, then the exported function. */
export const LAMBDA_HANDLER = `${BUNDLE_FILE_NAME.replace(/\.mjs$/, '')}.handler`;

/** Where the configuration file lands inside the asset (and so under /var/task in Lambda). */
export const BUNDLED_CONFIG_FILE_NAME = DEFAULT_CONFIG_FILE;

/** Builds the bundle with esbuild's JS API in this process, then ships the configuration file. */
export class EsbuildLocalBundling implements ILocalBundling {
  private readonly configFile: string;

  constructor(configFile: string) {
    this.configFile = configFile;
  }

  tryBundle(outputDir: string, _options: BundlingOptions): boolean {
    // buildSync throws on any build error, so a broken handler fails the synth instead of falling back to Docker.
    buildSync(lambdaBuildOptions(join(outputDir, BUNDLE_FILE_NAME)));
    copyFileSync(this.configFile, join(outputDir, BUNDLED_CONFIG_FILE_NAME));
    return true;
  }
}

/**
 * The function's code. The asset is hashed on the bundle's output (not on the source tree), so a change to the
 * handler, to a dependency or to the configuration file is a new asset, and the repository's node_modules is
 * never fingerprinted.
 */
export function rotatorCode(configFile: string): Code {
  return Code.fromAsset(join(PROJECT_ROOT, 'lambda'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      local: new EsbuildLocalBundling(configFile),
      // Required by the API but never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-alpine'),
    },
  });
}
