/**
 * The Datagrid adapter's HTTP client (undici, the shared keep-alive Pool of each origin) against real local servers:
 * connection reuse, the connect, headers and body timeouts and the response size cap, which the MockAgent-based
 * adapter tests cannot see; and the adapter on it end to end.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Pool } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatagridApiFactory } from '../../../lambda/adapters/datagrid.ts';
import { loadUndici, poolFor, undiciTransport } from '../../../lambda/adapters/http-transport.ts';
import type { HttpResponse, PoolLimits } from '../../../lambda/adapters/http-transport.ts';
import { DatagridError } from '../../../lambda/errors.ts';
import type { Clock } from '../../../lambda/types/index.ts';

let http: Server;
let origin: string;
let connections: number;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;

beforeEach(async () => {
  connections = 0;
  http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  http.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

async function text(response: HttpResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** undici frees a socket a moment after its response ends. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const LIMITS: PoolLimits = { timeoutMs: 5_000, maxResponseBytes: 4 * 1024 * 1024 };

/** A request through the shared pool of `url`'s origin (no dispatcher given), with a signal that never aborts. */
function send(url: string, limits = LIMITS, extra: { headers?: Record<string, string> } = {}) {
  return undiciTransport(
    undefined,
    limits,
  )({
    url,
    method: 'GET',
    headers: extra.headers ?? {},
    body: undefined,
    signal: new AbortController().signal,
  });
}

describe('undiciTransport on the shared pool', () => {
  it('sends method, headers and a JSON body with its length, and returns status, headers and body', async () => {
    let seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    handler = (req, res, body) => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      res.writeHead(201, { 'x-answer': '42', 'content-type': 'application/json' }).end('{"ok":true}');
    };
    const body = JSON.stringify({ authorization: 'Bearer tøken' });
    const response = await undiciTransport(
      undefined,
      LIMITS,
    )({
      url: `${origin}/v1/organization/mcp-servers/srv_1?x=1`,
      method: 'PATCH',
      headers: { authorization: 'Bearer key', 'content-type': 'application/json' },
      body,
      signal: new AbortController().signal,
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers['x-answer']).toBe('42');
    expect(await text(response)).toBe('{"ok":true}');
    expect(seen.method).toBe('PATCH');
    expect(seen.url).toBe('/v1/organization/mcp-servers/srv_1?x=1');
    expect(seen.body).toBe(body);
    expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen.headers?.authorization).toBe('Bearer key');
  });

  it('reuses the connection after a dumped body, and closes it after a body too large to drain', async () => {
    let size = 10;
    handler = (_req, res) => res.writeHead(503).end('x'.repeat(size));
    await (await send(`${origin}/`)).body.dump();
    await nextTurn();
    await (await send(`${origin}/`)).body.dump();
    await nextTurn();
    expect(connections).toBe(1);
    size = 3 * 1024 * 1024;
    await (await send(`${origin}/`)).body.dump();
    await nextTurn();
    await (await send(`${origin}/`)).body.dump();
    expect(connections).toBe(2);
  });

  it('rejects when the signal aborts before the answer', async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    const pending = undiciTransport(
      undefined,
      LIMITS,
    )({ url: `${origin}/`, method: 'GET', headers: {}, body: undefined, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects a header value with a control character with a code the adapter treats as final', async () => {
    handler = (_req, res) => res.end();
    await expect(send(`${origin}/`, LIMITS, { headers: { authorization: 'Bearer a\nb' } })).rejects.toMatchObject({
      code: 'UND_ERR_INVALID_ARG',
    });
  });

  it('gives up waiting for the response headers after timeoutMs', async () => {
    handler = () => undefined; // never answers
    const started = performance.now();
    await expect(send(`${origin}/`, { ...LIMITS, timeoutMs: 200 })).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('gives up on a body that stops arriving for timeoutMs', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":'); // and nothing more
    };
    const response = await send(`${origin}/`, { ...LIMITS, timeoutMs: 200 });
    await expect(text(response)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('gives up on a connection whose TLS handshake does not finish within timeoutMs', async () => {
    // Accepts TCP connections and never answers the TLS ClientHello.
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const tls = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await expect(send(`${tls}/`, { ...LIMITS, timeoutMs: 200 })).rejects.toMatchObject({
        code: 'UND_ERR_CONNECT_TIMEOUT',
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses a response larger than maxResponseBytes, announced or not', async () => {
    const limits = { ...LIMITS, maxResponseBytes: 1024 };
    handler = (_req, res) => res.writeHead(200, { 'content-length': '2048' }).end('x'.repeat(2048));
    await expect(send(`${origin}/`, limits).then(text)).rejects.toMatchObject({
      code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE',
    });
    handler = (_req, res) => {
      res.writeHead(200); // chunked: no length announced
      res.write('x'.repeat(1000));
      res.end('x'.repeat(1000));
    };
    await expect(send(`${origin}/`, limits).then(text)).rejects.toMatchObject({
      code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE',
    });
    handler = (_req, res) => res.end('x'.repeat(1024));
    await expect(send(`${origin}/`, limits).then(text)).resolves.toHaveLength(1024);
  });
});

describe('poolFor', () => {
  it('keeps one undici Pool per origin and limits, for every client of the process', async () => {
    const pool = await poolFor('https://a.example', LIMITS);
    expect(pool).toBeInstanceOf(Pool);
    expect(await poolFor('https://a.example', { ...LIMITS })).toBe(pool);
    expect(await poolFor('https://b.example', LIMITS)).not.toBe(pool);
    expect(await poolFor('https://a.example', { ...LIMITS, timeoutMs: 1 })).not.toBe(pool);
  });

  it('loads undici once, on first use', async () => {
    expect(loadUndici()).toBe(loadUndici());
    expect((await loadUndici()).Pool).toBe(Pool);
  });
});

describe('the Datagrid adapter on the shared pool', () => {
  const clock: Clock = { now: () => Date.now(), sleep: () => nextTurn() };
  const api = (requestTimeoutMs = 5000, maxAttempts = 2, apiKey = 'canary-key-8c1d') =>
    createDatagridApiFactory({ baseUrl: `${origin}/v1`, requestTimeoutMs, maxAttempts, clock, random: () => 0 })(
      apiKey,
    );

  it('times out an attempt that gets no answer and reports DATAGRID_UNAVAILABLE after the last one', async () => {
    let requests = 0;
    handler = () => {
      requests += 1; // never answers
    };
    const error = await api(100, 2)
      .getServer(undefined, 'srv_1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatagridError);
    expect((error as DatagridError).code).toBe('DATAGRID_UNAVAILABLE');
    expect((error as DatagridError).message).toContain('no complete response within 100 ms');
    expect(requests).toBe(2);
  });

  it('does not retry when undici refuses the API key as a header value, and never shows it', async () => {
    let requests = 0;
    handler = (_req, res) => {
      requests += 1;
      res.end();
    };
    const error = await api(5000, 4, 'canary-key\r\nx')
      .getServer(undefined, 'srv_1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatagridError);
    expect((error as DatagridError).attempts).toBe(1);
    expect((error as DatagridError).message).not.toContain('canary');
    expect(requests).toBe(0);
  });

  it('reports an answer larger than the cap as DATAGRID_UNAVAILABLE without reading it whole', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(5 << 20));
    const error = await api(5000, 1)
      .getServer(undefined, 'srv_1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatagridError);
    expect((error as DatagridError).code).toBe('DATAGRID_UNAVAILABLE');
    expect((error as DatagridError).message).toContain('ResponseExceededMaxSizeError');
  });
});
