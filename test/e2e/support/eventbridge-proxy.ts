/**
 * An EventBridge endpoint in front of moto that answers PutEvents the ways a throttled EventBridge does: it refuses
 * chosen entries (they are not forwarded, and their result carries an ErrorCode), or it forwards every entry and
 * then answers with a FailedEntryCount but no per-entry results. Everything else is passed through unchanged. The
 * handler is pointed at it with AWS_ENDPOINT_URL_EVENTBRIDGE; every PutEvents call is recorded in order.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Entry {
  DetailType?: string;
  Detail?: string;
}

export interface PutEventsCall {
  /** Per entry: `summary` for the run's completion event, else the result's serverId. */
  entries: string[];
}

export interface EventBridgeProxyOptions {
  /** moto's endpoint. */
  target: string;
  /** Refuse this entry of this call (0-based call index) as throttled: it is not delivered. */
  refuse?: (entry: string, call: number) => boolean;
  /** Deliver every entry of this call, but answer only `FailedEntryCount`, without `Entries`. */
  countWithoutEntries?: (entries: string[], call: number) => number | undefined;
}

export interface EventBridgeProxy {
  url: string;
  calls: PutEventsCall[];
  close(): Promise<void>;
}

const RUN_COMPLETED = 'MCP Rotation Run Completed';

function label(entry: Entry): string {
  if (entry.DetailType === RUN_COMPLETED) return 'summary';
  const detail = JSON.parse(entry.Detail ?? '{}') as { serverId?: string };
  return detail.serverId ?? '?';
}

export async function startEventBridgeProxy(options: EventBridgeProxyOptions): Promise<EventBridgeProxy> {
  const calls: PutEventsCall[] = [];
  const forward = async (method: string, url: string, headers: Record<string, string>, body: string) => {
    const response = await fetch(`${options.target}${url}`, { method, headers, ...(body !== '' && { body }) });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(req.headers)) {
          if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(key))
            headers[key] = value;
        }
        const reply = (status: number, type: string | null, text: string) =>
          res.writeHead(status, { 'content-type': type ?? 'application/x-amz-json-1.1' }).end(text);

        if (headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
          const passed = await forward(req.method ?? 'POST', req.url ?? '/', headers, body);
          reply(passed.status, passed.type, passed.text);
          return;
        }
        const call = calls.length;
        const entries = (JSON.parse(body) as { Entries: Entry[] }).Entries;
        const labels = entries.map(label);
        calls.push({ entries: labels });
        const refused = labels.map((l) => options.refuse?.(l, call) ?? false);
        const accepted = entries.filter((_, i) => !refused[i]);
        let acceptedResults: unknown[] = [];
        if (accepted.length > 0) {
          const passed = await forward('POST', req.url ?? '/', headers, JSON.stringify({ Entries: accepted }));
          if (passed.status !== 200) {
            reply(passed.status, passed.type, passed.text);
            return;
          }
          acceptedResults = (JSON.parse(passed.text) as { Entries: unknown[] }).Entries;
        }
        const failedWithoutEntries = options.countWithoutEntries?.(labels, call);
        if (failedWithoutEntries !== undefined) {
          reply(200, null, JSON.stringify({ FailedEntryCount: failedWithoutEntries }));
          return;
        }
        let next = 0;
        const results = refused.map((isRefused) =>
          isRefused ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : acceptedResults[next++],
        );
        reply(200, null, JSON.stringify({ FailedEntryCount: refused.filter(Boolean).length, Entries: results }));
      })().catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
