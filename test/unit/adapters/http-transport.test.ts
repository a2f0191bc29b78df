/**
 * The default transport of the Datagrid adapter (Node's http with a keep-alive agent per origin) against a real
 * local server, and the adapter on it end to end: what the MockAgent-based adapter tests cannot see.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatagridApiFactory } from '../../../lambda/adapters/datagrid.ts';
import { agentFor, nodeHttpTransport } from '../../../lambda/adapters/http-transport.ts';
import type { HttpResponse } from '../../../lambda/adapters/http-transport.ts';
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

/** A socket goes back to the agent's pool a moment after its response ends. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('nodeHttpTransport', () => {
  it('sends method, headers and a JSON body with its length, and returns status, headers and body', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    handler = (req, res, body) => {
      seen = { method: req.method, headers: req.headers, body };
      res.writeHead(201, { 'x-answer': '42', 'content-type': 'application/json' }).end('{"ok":true}');
    };
    const body = JSON.stringify({ authorization: 'Bearer tøken' });
    const response = await nodeHttpTransport({
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
    expect(seen.body).toBe(body);
    expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen.headers?.authorization).toBe('Bearer key');
  });

  it('reuses the connection after a dumped body, and closes it after a body too large to drain', async () => {
    let size = 10;
    handler = (_req, res) => res.writeHead(503).end('x'.repeat(size));
    const get = () =>
      nodeHttpTransport({
        url: `${origin}/`,
        method: 'GET',
        headers: {},
        body: undefined,
        signal: AbortSignal.timeout(5000),
      });
    await (await get()).body.dump();
    await nextTurn();
    await (await get()).body.dump();
    await nextTurn();
    expect(connections).toBe(1);
    size = 3 * 1024 * 1024;
    await (await get()).body.dump();
    await nextTurn();
    await (await get()).body.dump();
    expect(connections).toBe(2);
  });

  it('rejects when the signal aborts before the answer', async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    const pending = nodeHttpTransport({
      url: `${origin}/`,
      method: 'GET',
      headers: {},
      body: undefined,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects a header value with a control character with a code the adapter treats as final', async () => {
    handler = (_req, res) => res.end();
    const pending = nodeHttpTransport({
      url: `${origin}/`,
      method: 'GET',
      headers: { authorization: 'Bearer a\nb' },
      body: undefined,
      signal: new AbortController().signal,
    });
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_CHAR' });
  });

  it('keeps one agent per origin, https for https origins', () => {
    expect(agentFor('https://a.example')).toBe(agentFor('https://a.example'));
    expect(agentFor('https://a.example')).toBeInstanceOf(HttpsAgent);
    expect(agentFor('http://a.example')).not.toBeInstanceOf(HttpsAgent);
    expect(agentFor('https://b.example')).not.toBe(agentFor('https://a.example'));
  });
});

describe('the Datagrid adapter on the default transport', () => {
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

  it('does not retry when Node refuses the API key as a header value, and never shows it', async () => {
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
});
