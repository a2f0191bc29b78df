/** The commit a benchmark ran, for its results file. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function git(args: string[]): Promise<string> {
  try {
    return (await promisify(execFile)('git', args, { cwd: ROOT })).stdout.trim();
  } catch {
    return 'unknown';
  }
}

/** HEAD's short hash, with `+dirty` when any of `paths` (what the figures depend on) has uncommitted changes. */
export async function commitLabel(paths: readonly string[]): Promise<string> {
  const dirty = await git(['status', '--porcelain', ...paths]);
  return `${await git(['rev-parse', '--short', 'HEAD'])}${dirty ? '+dirty' : ''}`;
}
