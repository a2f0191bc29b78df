/**
 * One warm "execution environment" of bench/warm-pool.ts: a long-lived process that imports the bundle on its first
 * invocation (the cold start) and keeps the module, its SDK clients and connection pools for the next ones, as Lambda
 * reuses a warm environment. Invocations arrive over IPC, one at a time.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { PoolReply, PoolRequest } from './warm-pool.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const bundle = process.argv[2];
if (bundle === undefined || process.send === undefined) {
  console.error('usage: forked by bench/warm-pool.ts with the bundle path');
  process.exit(2);
}
let handler: Handler | undefined;

process.on('message', (message: PoolRequest) => {
  void (async () => {
    const started = performance.now();
    let importMs = 0;
    if (handler === undefined) {
      ({ handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler });
      importMs = performance.now() - started;
    }
    const deadline = Date.now() + message.remainingMs;
    const context = {
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    const invokeStarted = performance.now();
    let reply: PoolReply;
    try {
      const output = await handler(message.event, context);
      reply = { id: message.id, ok: true, output, importMs, invokeMs: 0, maxRssKb: 0 };
    } catch (error) {
      const { name, message: text } = error instanceof Error ? error : { name: typeof error, message: String(error) };
      reply = { id: message.id, ok: false, error: { name, message: text }, importMs, invokeMs: 0, maxRssKb: 0 };
    }
    reply.invokeMs = performance.now() - invokeStarted;
    reply.maxRssKb = process.resourceUsage().maxRSS;
    process.send!(reply);
  })();
});
