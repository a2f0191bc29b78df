/**
 * Lambda's execution environments, locally: at most `size` processes running the built bundle, each reused for the
 * next invocation once it answered (a warm start), and a new one started only when every existing one is busy (a
 * cold start). The state machine benchmark maps its Lambda tasks here; real Lambda keeps warm environments the same
 * way, so a fresh process per shard would charge each shard a cold start that a deployment rarely pays.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./pool-worker.ts', import.meta.url));

export interface PoolRequest {
  id: number;
  event: unknown;
  remainingMs: number;
}

export interface PoolReply {
  id: number;
  ok: boolean;
  output?: unknown;
  error?: { name: string; message: string };
  /** The bundle's import, on the environment's first invocation only (else 0), ms. */
  importMs: number;
  invokeMs: number;
  /** Peak RSS of the environment so far, KB. */
  maxRssKb: number;
}

export interface PoolInvocation extends PoolReply {
  /** Which environment ran it. */
  environment: number;
  cold: boolean;
}

interface Environment {
  index: number;
  process: ChildProcess;
  invocations: number;
  pending?: { resolve: (reply: PoolReply) => void; reject: (error: Error) => void };
}

export class WarmPool {
  readonly #bundle: string;
  readonly #env: Record<string, string>;
  readonly #size: number;
  readonly #environments: Environment[] = [];
  readonly #idle: Environment[] = [];
  readonly #queue: ((environment: Environment) => void)[] = [];
  #nextId = 0;
  /** Every invocation, in the order they answered. */
  readonly invocations: PoolInvocation[] = [];

  constructor(bundle: string, env: Record<string, string>, size: number) {
    this.#bundle = bundle;
    this.#env = env;
    this.#size = size;
  }

  /** Environments started so far (cold starts). */
  get environments(): number {
    return this.#environments.length;
  }

  async invoke(event: unknown, remainingMs: number): Promise<PoolInvocation> {
    const environment = await this.#take();
    const cold = environment.invocations === 0;
    environment.invocations += 1;
    try {
      const reply = await new Promise<PoolReply>((resolve, reject) => {
        environment.pending = { resolve, reject };
        environment.process.send({ id: (this.#nextId += 1), event, remainingMs } satisfies PoolRequest);
      });
      const invocation = { ...reply, environment: environment.index, cold };
      this.invocations.push(invocation);
      return invocation;
    } finally {
      environment.pending = undefined;
      this.#release(environment);
    }
  }

  #take(): Promise<Environment> {
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#environments.length < this.#size) return Promise.resolve(this.#start());
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  #release(environment: Environment): void {
    if (environment.process.exitCode !== null) return;
    const waiter = this.#queue.shift();
    if (waiter) waiter(environment);
    else this.#idle.push(environment);
  }

  #start(): Environment {
    const child = fork(WORKER, [this.#bundle], { env: this.#env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const environment: Environment = { index: this.#environments.length, process: child, invocations: 0 };
    child.on('message', (reply: PoolReply) => environment.pending?.resolve(reply));
    child.once('exit', (code, signal) =>
      environment.pending?.reject(new Error(`environment ${environment.index} exited with ${code ?? signal}`)),
    );
    this.#environments.push(environment);
    return environment;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#environments.map(
        ({ process: child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill();
          }),
      ),
    );
  }
}
