/**
 * secret-changed runs: the rules match the configured secrets' name prefixes, so the engine sees changes of secrets
 * no target uses. Those are quiet, empty runs; the configured ones rotate exactly their targets.
 */
import { describe, expect, it } from 'vitest';
import type { RotationResult } from '../../../lambda/types/results.ts';
import { Harness, config, request, target } from '../../support/engine-harness.ts';

function fleet() {
  const h = new Harness();
  const targets = ['srv01', 'srv02'].map((id) => {
    h.datagrid.addServer(id, 'ts001');
    h.secrets.put(`mcp/ts001/${id}`, `token-${id}-canary-9d1f`);
    return target(id, `mcp/ts001/${id}`, { teamspaceId: 'ts001' });
  });
  return { h, cfg: config(targets) };
}

describe('a secret-changed run', () => {
  it('for a secret under the granted prefix that no target uses: zero targets, nothing read, no warning, no error', async () => {
    const { h, cfg } = fleet();
    const summary = await h.run(cfg, request({ trigger: 'secret-changed', secretRef: 'mcp/ts001/srv03' }));
    expect(summary.results).toEqual([]);
    expect(summary.counts).toMatchObject({ rotated: 0, failed: 0, skipped: 0 });
    expect(h.secrets.getCurrentCalls).toHaveLength(0);
    expect(h.datagrid.calls).toHaveLength(0);
    expect(h.log.lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    expect(h.log.lines).toContainEqual(
      expect.objectContaining({ level: 'info', attributes: { secretRef: 'mcp/ts001/srv03' } }),
    );
  });

  it('for a target secret named by its complete ARN, when the configuration names it by partial ARN', async () => {
    const h = new Harness();
    const partial = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:mcp/ts001/srv01';
    h.datagrid.addServer('srv01', 'ts001');
    h.secrets.put(partial, 'token-srv01-canary-9d1f');
    const cfg = config([target('srv01', partial, { teamspaceId: 'ts001' })]);
    const summary = await h.run(cfg, request({ trigger: 'secret-changed', secretRef: `${partial}-AbCdEf` }));
    expect(summary.results.map((r) => (r as RotationResult).serverId)).toEqual(['srv01']);
  });
});
