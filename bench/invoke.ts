/** Parent side of bench/child.ts: spawn one fresh Node process per invocation, as Lambda would, and parse its report. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPORT_MARKER } from './protocol.ts';
import type { ChildReport } from './protocol.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface Invocation {
  report: ChildReport;
  /** Spawn to exit, ms: process start, import and invocation. */
  processMs: number;
}

export function invokeBundle(
  bundle: string,
  event: unknown,
  env: Record<string, string>,
  timeoutMs = 5 * 60_000,
): Promise<Invocation> {
  const started = performance.now();
  const child = spawn(process.execPath, [CHILD, bundle], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(JSON.stringify(event));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const processMs = performance.now() - started;
      const line = stdout.split('\n').findLast((l) => l.startsWith(REPORT_MARKER));
      if (line === undefined) {
        reject(
          new Error(
            `handler process exited with ${code ?? signal} without a report: ${stderr.trim().slice(-1500) || stdout.slice(-1500)}`,
          ),
        );
        return;
      }
      resolve({ report: JSON.parse(line.slice(REPORT_MARKER.length)) as ChildReport, processMs });
    });
  });
}
