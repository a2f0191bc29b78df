/**
 * Cold start: the bundle's size and how long `import()` of it takes in a fresh Node process, beside the floor, a
 * bundle holding only the three AWS SDK clients the handler uses (bench/floor-entry.ts), built with the same
 * esbuild options. Processes alternate between the two bundles so drift in machine load hits both alike.
 *
 * Both bundles keep code loaded on demand (a dynamic import()) in chunk files beside them: the rotator's HTTP client,
 * the SDK's credential providers. Lambda's init phase imports the entry file (and the chunks it imports statically),
 * which is what the target compares; the same process then also imports every chunk loaded on demand, so the cost
 * of loading everything is reported too (an upper bound: a run loads only some of them).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { lambdaBuildOptions } from '../scripts/esbuild-options.ts';
import { bundleImports } from './bundle-graph.ts';

const FLOOR_ENTRY = fileURLToPath(new URL('./floor-entry.ts', import.meta.url));

export interface ImportTiming {
  /** Each process's import time, ms, in run order. */
  samplesMs: number[];
  medianMs: number;
}

export interface BundleTiming extends ImportTiming {
  path: string;
  /** The entry file and the chunks it imports statically: what import() of the entry loads. */
  bytes: number;
  /** The chunks loaded on demand (0 when it has none). */
  chunkBytes: number;
  /** import() of the entry, then of every chunk loaded on demand, in the same processes. */
  withChunks: ImportTiming;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Builds the floor as `<outDir>/floor.mjs` (and its chunks) with the Lambda's options. */
export async function buildFloor(outDir: string): Promise<string> {
  await build({ ...lambdaBuildOptions(outDir), entryPoints: { floor: FLOOR_ENTRY } });
  return join(outDir, 'floor.mjs');
}

interface BundleFiles {
  /** The entry and its static imports. */
  init: string[];
  onDemand: string[];
}

function filesOf(bundle: string): BundleFiles {
  const dir = dirname(bundle);
  const graph = bundleImports(dir, basename(bundle));
  return { init: [bundle, ...graph.static.map((f) => join(dir, f))], onDemand: graph.dynamic.map((f) => join(dir, f)) };
}

async function totalBytes(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  return sizes.reduce((a, b) => a + b, 0);
}

/** One fresh process: import the bundle, then its on-demand chunks; print the ms of each step's end. */
async function importOnce(
  bundle: string,
  chunks: readonly string[],
  env: Record<string, string>,
): Promise<{ entryMs: number; allMs: number }> {
  const urls = JSON.stringify(chunks.map((c) => pathToFileURL(c).href));
  const script =
    `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)});` +
    `const entry = performance.now() - t; for (const c of ${urls}) await import(c);` +
    `process.stdout.write(JSON.stringify([entry, performance.now() - t]));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
  const [entryMs, allMs] = JSON.parse(stdout.trim()) as [number, number];
  if (!Number.isFinite(entryMs) || !Number.isFinite(allMs)) {
    throw new Error(`import timing of ${bundle}: unexpected output ${stdout}`);
  }
  return { entryMs, allMs };
}

export async function timeImports(
  bundles: readonly string[],
  processes: number,
  env: Record<string, string>,
): Promise<BundleTiming[]> {
  const files = bundles.map(filesOf);
  const chunks = files.map((f) => f.onDemand);
  const entry = bundles.map(() => [] as number[]);
  const all = bundles.map(() => [] as number[]);
  // One untimed import each first: the first read of a file from disk is not what Lambda's cold start measures.
  for (const [j, bundle] of bundles.entries()) await importOnce(bundle, chunks[j]!, env);
  for (let i = 0; i < processes; i += 1) {
    for (const [j, bundle] of bundles.entries()) {
      const { entryMs, allMs } = await importOnce(bundle, chunks[j]!, env);
      entry[j]!.push(entryMs);
      all[j]!.push(allMs);
    }
  }
  return Promise.all(
    bundles.map(async (path, j) => ({
      path,
      bytes: await totalBytes(files[j]!.init),
      chunkBytes: await totalBytes(files[j]!.onDemand),
      samplesMs: entry[j]!,
      medianMs: median(entry[j]!),
      withChunks: { samplesMs: all[j]!, medianMs: median(all[j]!) },
    })),
  );
}
