/**
 * Cold start: the bundle's size and how long `import()` of it takes in a fresh Node process, beside the floor, a
 * bundle holding only the three AWS SDK clients the handler uses (bench/floor-entry.ts), built with the same
 * esbuild options. Processes alternate between the two bundles so drift in machine load hits both alike.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { lambdaBuildOptions } from '../scripts/esbuild-options.ts';

const FLOOR_ENTRY = fileURLToPath(new URL('./floor-entry.ts', import.meta.url));

export interface BundleTiming {
  path: string;
  bytes: number;
  /** Each process's import time, ms, in run order. */
  samplesMs: number[];
  medianMs: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function buildFloor(outDir: string): Promise<string> {
  const outfile = join(outDir, 'floor.mjs');
  await build({ ...lambdaBuildOptions(outfile), entryPoints: [FLOOR_ENTRY] });
  return outfile;
}

/** One fresh process: import the bundle, print the ms it took. */
async function importOnce(bundle: string, env: Record<string, string>): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`import timing of ${bundle}: unexpected output ${stdout}`);
  return ms;
}

export async function timeImports(
  bundles: readonly string[],
  processes: number,
  env: Record<string, string>,
): Promise<BundleTiming[]> {
  const samples = bundles.map(() => [] as number[]);
  // One untimed import each first: the first read of a file from disk is not what Lambda's cold start measures.
  for (const bundle of bundles) await importOnce(bundle, env);
  for (let i = 0; i < processes; i += 1) {
    for (const [j, bundle] of bundles.entries()) samples[j]!.push(await importOnce(bundle, env));
  }
  return Promise.all(
    bundles.map(async (path, j) => ({
      path,
      bytes: (await stat(path)).size,
      samplesMs: samples[j]!,
      medianMs: median(samples[j]!),
    })),
  );
}
