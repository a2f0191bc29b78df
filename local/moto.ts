/**
 * Starts moto's standalone server (a local AWS: Secrets Manager, DynamoDB, EventBridge, SQS, ...) on a free
 * loopback port, for `AWS_ENDPOINT_URL`. A missing moto is an error, never a silent skip: a suite that skips
 * its AWS half would pass without testing it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { freePort } from './net.ts';
import { ensurePythonTools, pythonToolCommand } from './python-tools.ts';

export interface MotoOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** The executable. @default moto_server from .venv/ or the PATH, installed into .venv/ first if need be */
  command?: string;
  /** How long to wait for the first answer. @default 20000 */
  startTimeoutMs?: number;
}

export interface RunningMoto {
  /** e.g. `http://127.0.0.1:41234`: the value of `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  readonly region: string;
  /** Environment for an AWS SDK client or a handler run: endpoint, region and dummy credentials. */
  readonly env: Readonly<Record<string, string>>;
  /** Forgets every resource (moto's `/moto-api/reset`), so files can share one moto between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const MOTO_NOT_FOUND =
  'moto_server not found or not runnable: remove .venv/ and run again with python3 on the PATH (the npm scripts ' +
  'then install it into .venv/), or install it yourself: pip install -r requirements-dev.txt';
const POLL_INTERVAL_MS = 50;

export async function startMoto(options: MotoOptions = {}): Promise<RunningMoto> {
  const region = options.region ?? 'us-east-1';
  const command = options.command ?? (await ensurePythonTools(), pythonToolCommand('moto_server'));
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  // The port can be taken between the probe and moto's bind: try a few fresh ports.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    try {
      await waitUntilServing(child, endpoint, timeoutMs);
    } catch (error) {
      await stop(child);
      lastError = error as Error;
      if (lastError.message === MOTO_NOT_FOUND || !/address already in use/i.test(lastError.message)) throw lastError;
      continue;
    }
    child.stderr?.resume();
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    return {
      endpoint,
      region,
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
      },
      reset: async () => {
        const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        if (!response.ok) throw new Error(`moto reset failed with HTTP ${response.status}`);
      },
      close: async () => {
        process.off('exit', killOnExit);
        await stop(child);
      },
    };
  }
  throw lastError ?? new Error('moto_server did not start');
}

async function waitUntilServing(child: ChildProcess, endpoint: string, timeoutMs: number): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let failure: Error | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    failure = error.code === 'ENOENT' ? new Error(MOTO_NOT_FOUND) : error;
  });
  child.once('exit', (code) => {
    // pyenv and similar shims exist even when the package is not installed; they exit 127 "command not found".
    failure ??=
      code === 127 || /command not found|No module named/i.test(stderr)
        ? new Error(MOTO_NOT_FOUND)
        : new Error(
            `moto_server exited with code ${code} before serving: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
          );
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (failure) throw failure;
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  if (failure) throw failure;
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
