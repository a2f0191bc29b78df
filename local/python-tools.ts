/**
 * The two Python programs the tests and the demo need: `moto_server` (a local AWS) and `cfn-lint`. When they are
 * not on the PATH and `python3` is, they are installed once into a project-local virtual environment (`.venv/`,
 * git-ignored) from the pinned `requirements-dev.txt`, so `npm ci` then `npm test` (or `npm run demo`) is the whole
 * set-up. When they are on the PATH, nothing is installed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../scripts/esbuild-options.ts';
import { findExecutable } from './executables.ts';

export const PYTHON_TOOLS = ['moto_server', 'cfn-lint'] as const;
export type PythonTool = (typeof PYTHON_TOOLS)[number];

export interface PythonToolsLayout {
  /** The repository: holds requirements-dev.txt and .venv/. */
  root: string;
  /** The PATH to look the tools and python3 up on. */
  path: string | undefined;
}

const defaultLayout = (): PythonToolsLayout => ({ root: PROJECT_ROOT, path: process.env.PATH });

const venvDir = (root: string) => join(root, '.venv');
const venvBin = (root: string, program: string) => join(venvDir(root), 'bin', program);

export const NO_PYTHON_MESSAGE =
  'moto_server and cfn-lint (Python programs the tests and the demo run) are not installed, and there is no ' +
  'python3 on the PATH to install them into .venv/. Install Python 3 with its venv module ' +
  '(Debian/Ubuntu: apt-get install python3 python3-venv; Fedora: dnf install python3; macOS: brew install python), ' +
  'then run the command again; or install the tools yourself: pip install -r requirements-dev.txt';

/**
 * The program to run for a tool: the project venv's copy when it has one (it exists only because the PATH had no
 * such tool when it was made), else the name, for the PATH to resolve. Decided without running anything.
 */
export function pythonToolCommand(tool: PythonTool, layout: PythonToolsLayout = defaultLayout()): string {
  return findExecutable(venvBin(layout.root, tool)) ?? tool;
}

export type PythonToolsDecision =
  | { action: 'none' }
  | { action: 'create-venv'; python: string; missing: PythonTool[] }
  | { action: 'fail'; message: string };

/** What a run needs to do so that every tool can be run: nothing, build the venv, or stop and say what to install. */
export function decidePythonTools(layout: PythonToolsLayout = defaultLayout()): PythonToolsDecision {
  const missing = PYTHON_TOOLS.filter(
    (tool) =>
      findExecutable(venvBin(layout.root, tool)) === undefined && findExecutable(tool, layout.path) === undefined,
  );
  if (missing.length === 0) return { action: 'none' };
  const python = findExecutable('python3', layout.path);
  if (python === undefined) return { action: 'fail', message: NO_PYTHON_MESSAGE };
  return { action: 'create-venv', python, missing };
}

/** Runs a program; resolves with its exit code and the tail of its output (pip is chatty). */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

const lastLines = (text: string) => text.trim().split('\n').slice(-5).join('\n  ');

async function buildVenv(root: string, python: string, log: (line: string) => void): Promise<void> {
  const venvPython = venvBin(root, 'python');
  if (!existsSync(venvPython)) {
    const created = await run(python, ['-m', 'venv', venvDir(root)]);
    if (created.code !== 0) {
      // Debian and Ubuntu ship venv's pip bootstrap as a separate package.
      const hint = /ensurepip|venv/i.test(created.output) ? ' (Debian/Ubuntu: apt-get install python3-venv)' : '';
      await rm(venvDir(root), { recursive: true, force: true });
      throw new Error(`${python} -m venv .venv failed${hint}:\n  ${lastLines(created.output)}`);
    }
  }
  const requirements = join(root, 'requirements-dev.txt');
  const installed = await run(venvPython, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--quiet',
    '-r',
    requirements,
  ]);
  if (installed.code !== 0) {
    throw new Error(
      `pip could not install requirements-dev.txt into .venv/ (is the Python package index reachable?):\n  ` +
        `${lastLines(installed.output)}\nInstall moto[server] and cfn-lint yourself (pip install -r requirements-dev.txt) ` +
        'or fix the above and run the command again.',
    );
  }
  log('python tools: .venv/ ready');
}

const LOCK_WAIT_MS = 10 * 60_000;

/** One builder at a time (two `npm test` in one checkout): the others wait for the lock directory to go. */
async function withLock(root: string, build: () => Promise<void>): Promise<void> {
  const lock = join(root, '.venv.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) {
        throw new Error(`${lock} is still there after 10 minutes: remove it if no build runs`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    await build();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/**
 * Makes sure moto_server and cfn-lint can be run (see pythonToolCommand): does nothing when they are found,
 * builds .venv/ when python3 is there, and otherwise throws an error that says what to install.
 */
export async function ensurePythonTools(
  log: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
  layout: PythonToolsLayout = defaultLayout(),
): Promise<void> {
  const decision = decidePythonTools(layout);
  if (decision.action === 'none') return;
  if (decision.action === 'fail') throw new Error(decision.message);
  await withLock(layout.root, async () => {
    // Another process may have built it while this one waited for the lock.
    const again = decidePythonTools(layout);
    if (again.action !== 'create-venv') return;
    log(
      `python tools: ${again.missing.join(' and ')} not on the PATH; installing requirements-dev.txt into .venv/ ` +
        `with ${again.python} (once)`,
    );
    await buildVenv(layout.root, again.python, log);
    const stillMissing = PYTHON_TOOLS.filter((tool) => findExecutable(venvBin(layout.root, tool)) === undefined);
    if (stillMissing.length > 0) {
      throw new Error(`.venv/ was built but has no ${stillMissing.join(' or ')}: check requirements-dev.txt`);
    }
  });
}
