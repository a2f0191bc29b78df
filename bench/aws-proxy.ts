/**
 * A counting HTTP proxy in front of moto: the handler's AWS_ENDPOINT_URL points here, every request is forwarded
 * unchanged and counted by its operation. The JSON protocols of Secrets Manager, DynamoDB and EventBridge name the
 * operation in `X-Amz-Target` (`secretsmanager.BatchGetSecretValue`, `DynamoDB_20120810.UpdateItem`,
 * `AWSEvents.PutEvents`), so the count needs no body parsing.
 */
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { closeServer, listen } from '../local/net.ts';

export type AwsService = 'secretsmanager' | 'dynamodb' | 'eventbridge' | 'other';

export interface AwsCallCounts {
  /** Calls per operation, e.g. `{ 'dynamodb.UpdateItem': 1200 }`. */
  byOperation: Record<string, number>;
  byService: Record<AwsService, number>;
  /** Mean time from request to the end of the answer, ms, per operation (moto's time plus the proxy's). */
  meanMs: Record<string, number>;
}

export interface CountingProxy {
  readonly endpoint: string;
  counts(): AwsCallCounts;
  /** TCP connections the handler opened to the proxy since the last reset. */
  connections(): number;
  reset(): void;
  close(): Promise<void>;
}

const SERVICE_PREFIXES: [string, AwsService][] = [
  ['secretsmanager.', 'secretsmanager'],
  ['DynamoDB_', 'dynamodb'],
  ['AWSEvents.', 'eventbridge'],
];

export function operationOf(target: string | undefined): { service: AwsService; operation: string } {
  if (target === undefined) return { service: 'other', operation: 'other.unknown' };
  const dot = target.indexOf('.');
  const name = dot === -1 ? target : target.slice(dot + 1);
  const service = SERVICE_PREFIXES.find(([prefix]) => target.startsWith(prefix))?.[1] ?? 'other';
  return { service, operation: `${service}.${name}` };
}

/**
 * Hop-by-hop headers belong to one connection (RFC 9110 §7.6.1) and are not forwarded: moto answers every request
 * with `Connection: close`, which would otherwise make the handler open a new connection per AWS call, as it never
 * does against AWS.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  let byOperation: Record<string, number> = {};
  let upstreamMs: Record<string, number> = {};

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers['x-amz-target'];
    const { operation } = operationOf(Array.isArray(header) ? header[0] : header);
    byOperation[operation] = (byOperation[operation] ?? 0) + 1;
    const started = performance.now();
    res.once('finish', () => {
      upstreamMs[operation] = (upstreamMs[operation] ?? 0) + performance.now() - started;
    });
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: endToEndHeaders(req.headers),
        agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, endToEndHeaders(upstreamRes.headers));
        upstreamRes.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(forward);
  });
  let connections = 0;
  server.on('connection', () => (connections += 1));
  const port = await listen(server, 0);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts() {
      const byService: Record<AwsService, number> = { secretsmanager: 0, dynamodb: 0, eventbridge: 0, other: 0 };
      for (const [operation, n] of Object.entries(byOperation)) {
        byService[operation.slice(0, operation.indexOf('.')) as AwsService] += n;
      }
      const meanMs = Object.fromEntries(
        Object.entries(upstreamMs).map(([op, total]) => [op, Math.round((total / byOperation[op]!) * 10) / 10]),
      );
      return { byOperation: { ...byOperation }, byService, meanMs };
    },
    connections: () => connections,
    reset() {
      byOperation = {};
      upstreamMs = {};
      connections = 0;
    },
    close: async () => {
      await closeServer(server);
      agent.destroy();
    },
  };
}
