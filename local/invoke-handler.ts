/**
 * Runs the built Lambda bundle the way Lambda does: a fresh Node process imports `dist/handler.mjs`, calls
 * `handler(event, context)` once and reports. A process per invocation means no warm state leaks between runs and
 * the environment is exactly what the Lambda would see.
 *
 * As a script (`node local/invoke-handler.ts <bundle>`, event JSON on stdin) it prints one marker line,
 * `RESULT_MARKER` + `{"ok":true,"summary":...}` or `{"ok":false,"error":{"name","message"}}`, and exits 0 or 1.
 * `invokeHandler()` spawns that script and parses the line.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LAMBDA_MAX_TIMEOUT_MS } from '../lambda/constants.ts';

export const RESULT_MARKER = '@@rotator-invocation@@ ';
export const DEFAULT_BUNDLE = fileURLToPath(new URL('../dist/handler.mjs', import.meta.url));
const RUNNER = fileURLToPath(import.meta.url);

export interface InvokeOptions {
  event: unknown;
  /** The whole environment of the process (nothing is inherited but PATH): AWS endpoint, table, config file, ... */
  env: Record<string, string>;
  /** @default DEFAULT_BUNDLE */
  bundle?: string;
  /** What `context.getRemainingTimeInMillis()` starts from. @default 15 minutes */
  remainingMs?: number;
  /** The process is killed after this long. @default 60000 */
  timeoutMs?: number;
  /** Kills the process (SIGKILL, as a Lambda timeout or crash would) when it aborts. */
  kill?: AbortSignal;
  /** `context.awsRequestId`: pass the one of an earlier invocation to stage Lambda's retry of it. @default a new UUID */
  awsRequestId?: string;
}

export interface HandlerError {
  name: string;
  message: string;
  /** Lambda reports the stack with the error (`trace`), so the leak canary looks at it too. */
  stack?: string;
}

export interface Invocation<Summary = unknown> {
  /** The process exit code (null when it was killed). */
  exitCode: number | null;
  /** The handler resolved. */
  ok: boolean;
  summary?: Summary;
  error?: HandlerError;
  /** Everything the process wrote: the handler's log lines and the marker line. */
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Spawns one handler process; resolves when it exits (a missing marker line becomes an `error`). */
export function invokeHandler<Summary = unknown>(options: InvokeOptions): Promise<Invocation<Summary>> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [RUNNER, options.bundle ?? DEFAULT_BUNDLE], {
    env: {
      ...(process.env.PATH !== undefined && { PATH: process.env.PATH }),
      ROTATOR_REMAINING_MS: String(options.remainingMs ?? LAMBDA_MAX_TIMEOUT_MS),
      ROTATOR_AWS_REQUEST_ID: options.awsRequestId ?? randomUUID(),
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(JSON.stringify(options.event));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const killNow = () => child.kill('SIGKILL');
    options.kill?.addEventListener('abort', killNow, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.kill?.removeEventListener('abort', killNow);
      const durationMs = Math.round(performance.now() - started);
      const reported = parseMarker(stdout);
      if (reported === undefined) {
        const why =
          signal !== 'SIGKILL'
            ? `exited with ${exitCode ?? signal}`
            : options.kill?.aborted
              ? 'killed on request'
              : `killed after ${timeoutMs} ms`;
        resolve({
          exitCode,
          ok: false,
          error: { name: 'InvocationError', message: `handler process ${why} without a result line` },
          stdout,
          stderr,
          durationMs,
        });
        return;
      }
      resolve({
        exitCode,
        ...(reported as Pick<Invocation<Summary>, 'ok' | 'summary' | 'error'>),
        stdout,
        stderr,
        durationMs,
      });
    });
  });
}

function parseMarker(stdout: string): unknown {
  const line = stdout.split('\n').findLast((l) => l.startsWith(RESULT_MARKER));
  return line === undefined ? undefined : JSON.parse(line.slice(RESULT_MARKER.length));
}

/** All of stdin, as UTF-8 (the event, in the child processes here and in bench/child.ts). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The child side: one invocation, one marker line, exit code 0 (resolved) or 1 (threw). */
async function runOnce(bundle: string): Promise<never> {
  const event: unknown = JSON.parse(await readStdin());
  const deadline = Date.now() + Number(process.env.ROTATOR_REMAINING_MS ?? LAMBDA_MAX_TIMEOUT_MS);
  const context = {
    awsRequestId: process.env.ROTATOR_AWS_REQUEST_ID ?? randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let line: string;
  let code: number;
  try {
    const { handler } = (await import(pathToFileURL(bundle).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const summary = await handler(event, context);
    line = JSON.stringify({ ok: true, summary });
    code = 0;
  } catch (error) {
    const { name, message, stack } =
      error instanceof Error ? error : { name: typeof error, message: String(error), stack: undefined };
    line = JSON.stringify({ ok: false, error: { name, message, stack } });
    code = 1;
  }
  // Exit explicitly: keep-alive sockets of the SDK and undici would hold the process open, as a frozen Lambda
  // container would; the write callback makes sure the line is out first.
  return new Promise<never>(() => process.stdout.write(`\n${RESULT_MARKER}${line}\n`, () => process.exit(code)));
}

if (process.argv[1] === RUNNER) {
  const bundle = process.argv[2];
  if (bundle === undefined) {
    console.error('usage: node local/invoke-handler.ts <bundle.mjs>  (event JSON on stdin)');
    process.exit(2);
  }
  await runOnce(bundle);
}
