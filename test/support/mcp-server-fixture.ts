import type { McpServer } from '../../lambda/types/index.ts';

/** A Datagrid `mcp_server` object as the API returns it: healthy, synced once, `tools` tools. */
export function mcpServerFixture(id: string, fields: Partial<McpServer> = {}, tools = 3): McpServer {
  return {
    object: 'mcp_server',
    id,
    name: `Server ${id}`,
    base_url: `https://mcp.example.com/${id}`,
    transport: 'http',
    status: 'active',
    icon_url: null,
    protocol_version: null,
    authorization_secret_id: `sec_${id}`,
    metadata: { tool_count: tools, last_synced_at: '2026-11-01T00:00:00.000Z' },
    created_at: '2026-10-01T00:00:00.000Z',
    updated_at: '2026-10-01T00:00:00.000Z',
    ...fields,
  };
}
