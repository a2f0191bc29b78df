/** Runs the operator CLI (`node cli/main.ts ...`) in its own process, as operators do, and checks its output for leaks. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { LocalStack } from '../../../local/stack.ts';
import { leakedCanaries } from './canaries.ts';

const CLI = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in the stack's directory with AWS from the environment (moto); stdout and stderr must hold no canary. */
export function runCli(stack: LocalStack, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: stack.workDir,
    env: {
      PATH: process.env.PATH ?? '',
      ...stack.moto.env,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      expect(leakedCanaries(stdout), `no secret, token or API key on stdout of ${args.join(' ')}`).toEqual([]);
      expect(leakedCanaries(stderr), `no secret, token or API key on stderr of ${args.join(' ')}`).toEqual([]);
      resolve({ code, stdout, stderr });
    });
  });
}
