/** Builds `dist/handler.mjs` with `npm run build`'s script, on the same Node (24) that runs the caller. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_BUNDLE } from './invoke-handler.ts';

const BUILD_SCRIPT = fileURLToPath(new URL('../scripts/build.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs scripts/build.ts; rejects with the build's own output when it fails. */
export async function buildBundle(): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, [BUILD_SCRIPT], { cwd: PROJECT_ROOT });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`npm run build failed:\n${stderr || stdout || String(error)}`, { cause: error });
  }
  return DEFAULT_BUNDLE;
}

/** The bundle, built first when it does not exist yet. */
export async function ensureBundle(): Promise<string> {
  return existsSync(DEFAULT_BUNDLE) ? DEFAULT_BUNDLE : buildBundle();
}
