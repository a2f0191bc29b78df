/**
 * The emulator's tool re-sync: what Datagrid does when a server's connectivity or auth changes. It connects to
 * the server as a real MCP client (initialize, then tools/list) with the stored Authorization header.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export type SyncOutcome = { ok: true; toolCount: number } | { ok: false; error: string };

export async function syncTools(
  baseUrl: string,
  authorization: string | null,
  timeoutMs: number,
): Promise<SyncOutcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  const transport = new StreamableHTTPClientTransport(new URL(baseUrl), {
    requestInit: { headers: authorization === null ? {} : { Authorization: authorization }, signal },
  });
  const client = new Client({ name: 'datagrid-emulator', version: '1.0.0' });
  try {
    await client.connect(transport, { signal, timeout: timeoutMs });
    let toolCount = 0;
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { signal, timeout: timeoutMs });
      toolCount += page.tools.length;
      cursor = page.nextCursor;
    } while (cursor);
    return { ok: true, toolCount };
  } catch (error) {
    return { ok: false, error: describe(error, signal) };
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * A fixed description, never the error's own message: an upstream answer may echo the header we sent, and the
 * stored reason is visible through the emulator's API.
 */
function describe(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timeout';
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) return `HTTP ${error.code}`;
  const status = /\bHTTP (\d{3})\b/.exec(error instanceof Error ? error.message : '')?.[1];
  if (status) return `HTTP ${status}`;
  if (error instanceof TypeError) return 'connection failed';
  return 'MCP handshake failed';
}
