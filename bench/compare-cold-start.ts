/**
 * `npm run bench:cold-start -- <git revision>`: the cold start of this checkout beside that of another revision,
 * measured side by side in one session (alternating fresh processes, so machine load hits both alike). Each
 * revision's handler and floor are built by that revision's own build script and floor builder, so each ratio
 * compares bundles built with the same options. The other revision is exported with `git archive` into a temporary
 * directory that borrows this checkout's node_modules (so compare revisions with the same dependencies).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Table from 'cli-table3';
import { buildFloor, timeImports } from './cold-start.ts';
import type { BundleTiming } from './cold-start.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROCESSES = Number(process.env.COLD_START_PROCESSES ?? 20);
const run = promisify(execFile);

/** Exports `revision` into `dir` and builds its handler; returns the paths of its handler and floor bundles. */
async function checkout(revision: string, dir: string): Promise<{ handler: string; floor: string }> {
  await mkdir(dir, { recursive: true });
  const tar = join(dir, '..', 'export.tar');
  await run('git', ['archive', '--format=tar', '-o', tar, revision], { cwd: ROOT });
  await run('tar', ['-xf', tar, '-C', dir]);
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await run(process.execPath, [join(dir, 'scripts', 'build.ts')], { cwd: dir });
  const floorBuilder = (await import(pathToFileURL(join(dir, 'bench', 'cold-start.ts')).href)) as {
    buildFloor: (outDir: string) => Promise<string>;
  };
  return { handler: join(dir, 'dist', 'handler.mjs'), floor: await floorBuilder.buildFloor(join(dir, '.floor')) };
}

async function main(revision: string | undefined): Promise<void> {
  if (revision === undefined) {
    console.error('usage: npm run bench:cold-start -- <git revision>   (e.g. main, HEAD~3)');
    process.exit(2);
  }
  const work = await mkdtemp(join(tmpdir(), 'rotator-cold-start-'));
  try {
    console.error(`building ${revision} and this checkout`);
    const before = await checkout(revision, join(work, 'before'));
    await run(process.execPath, [join(ROOT, 'scripts', 'build.ts')], { cwd: ROOT });
    const after = { handler: join(ROOT, 'dist', 'handler.mjs'), floor: await buildFloor(join(work, 'floor')) };
    console.error(`timing import() in ${PROCESSES} fresh processes per bundle, alternating`);
    const env = {
      ...(process.env.PATH !== undefined && { PATH: process.env.PATH }),
      AWS_REGION: 'us-east-1',
      STATE_TABLE_NAME: 'cold-start',
    };
    const [bh, bf, ah, af] = await timeImports(
      [before.handler, before.floor, after.handler, after.floor],
      PROCESSES,
      env,
    );
    const kb = (t: BundleTiming): string =>
      `${(t.bytes / 1024).toFixed(0)} KB${t.chunkBytes ? ` + ${(t.chunkBytes / 1024).toFixed(0)} KB chunks` : ''}`;
    const ms = (value: number): string => `${value.toFixed(1)} ms`;
    const table = new Table({
      head: ['', 'handler size', 'floor size', 'handler import()', 'floor import()', 'ratio', 'with chunks: ratio'],
    });
    for (const [name, h, f] of [
      [revision, bh!, bf!],
      ['this checkout', ah!, af!],
    ] as const) {
      table.push([
        name,
        kb(h),
        kb(f),
        ms(h.medianMs),
        ms(f.medianMs),
        `${(h.medianMs / f.medianMs).toFixed(2)}×`,
        `${ms(h.withChunks.medianMs)} / ${ms(f.withChunks.medianMs)} = ${(h.withChunks.medianMs / f.withChunks.medianMs).toFixed(2)}×`,
      ]);
    }
    console.log(table.toString());
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main(process.argv[2]);
