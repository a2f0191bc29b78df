/** Pre-flight in the engine, with an in-memory MCP client: when it runs, and what a failure leaves untouched. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMING } from '../../../lambda/engine/context.ts';
import { worstCaseTargetMs } from '../../../lambda/engine/budget.ts';
import { PreflightError } from '../../../lambda/errors.ts';
import type { McpProbe } from '../../../lambda/types/index.ts';
import type { RotationResult } from '../../../lambda/types/results.ts';
import { Harness, config, request, target } from '../../support/engine-harness.ts';

const TOKEN = 'canary-preflight-token-9c1d';

function setup(probe: McpProbe | undefined) {
  const h = new Harness();
  h.mcpProbe = probe;
  h.datagrid.addServer('srv_1', 'ts');
  h.secrets.put('mcp/srv_1', TOKEN);
  return { h, cfg: config([target('srv_1', 'mcp/srv_1', { teamspaceId: 'ts', preflight: true })]) };
}

const only = (summary: { results: unknown[] }) => summary.results[0] as RotationResult;

describe('pre-flight (engine)', () => {
  it('checks the credential at the base_url Datagrid reports, with the Authorization value, within the timeout', async () => {
    const seen: unknown[] = [];
    const { h, cfg } = setup({
      listTools: (baseUrl, authorization, options) => {
        seen.push({ baseUrl, authorization, options, patchesSoFar: h.datagrid.patches.length });
        return Promise.resolve({ toolCount: 3, toolNamesSha256: 'ab'.repeat(32) });
      },
    });
    const result = only(await h.run(cfg));
    expect(result).toMatchObject({ outcome: 'rotated', preflight: 'passed', preflightToolCount: 3 });
    expect(seen).toEqual([
      {
        baseUrl: 'https://mcp.example.com/srv_1',
        authorization: `Bearer ${TOKEN}`,
        options: { timeoutMs: 10_000 },
        patchesSoFar: 0,
      },
    ]);
  });

  it('does not run for a target that is unchanged', async () => {
    let calls = 0;
    const { h, cfg } = setup({
      listTools: () => ((calls += 1), Promise.resolve({ toolCount: 3, toolNamesSha256: '' })),
    });
    await h.run(cfg);
    const second = only(await h.run(cfg));
    expect(second.outcome).toBe('unchanged');
    expect(second.preflight).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('a failure takes no lease, sends no PATCH, and never repeats the credential the client quoted', async () => {
    const { h, cfg } = setup({
      listTools: (_url, authorization) =>
        Promise.reject(new PreflightError('PREFLIGHT_REJECTED', `server said no to ${authorization}`)),
    });
    const result = only(await h.run(cfg));
    expect(result).toMatchObject({ outcome: 'failed', preflight: 'failed', error: { code: 'PREFLIGHT_REJECTED' } });
    expect(JSON.stringify([result, h.events.events, h.log.lines])).not.toContain(TOKEN);
    expect(h.datagrid.patches).toEqual([]);
    expect(h.state.leaseCalls).toEqual([]);
  });

  it('without an MCP client the target fails PREFLIGHT_FAILED rather than skipping the check', async () => {
    const { h, cfg } = setup(undefined);
    const result = only(await h.run(cfg, request({ force: true })));
    expect(result.error?.code).toBe('PREFLIGHT_FAILED');
    expect(h.datagrid.patches).toEqual([]);
  });

  it('ends by the latest start of the PATCH: its timeout is cut to the time left, or it is not started', async () => {
    const seen: number[] = [];
    const { h, cfg } = setup({
      listTools: (_url, _auth, { timeoutMs }) => {
        seen.push(timeoutMs);
        return Promise.resolve({ toolCount: 3, toolNamesSha256: '' });
      },
    });
    const target = cfg.targets[0]!;
    const room = worstCaseTargetMs(target, cfg.datagrid) + DEFAULT_TIMING.reserveMs;
    h.remainingMs = room + 4_000;
    expect(only(await h.run(cfg)).outcome).toBe('rotated');
    expect(seen).toEqual([4_000]);

    h.remainingMs = room;
    const late = only(await h.run(cfg, request({ force: true })));
    expect(late).toMatchObject({ outcome: 'skipped', error: { code: 'DEADLINE' } });
    expect(seen).toHaveLength(1);
  });
});
