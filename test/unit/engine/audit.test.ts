import { describe, expect, it } from 'vitest';
import { statePk } from '../../../lambda/engine/state-key.ts';
import type { AuditResult } from '../../../lambda/types/results.ts';
import { Harness, config, request, target } from '../../support/engine-harness.ts';

const audit = (r: unknown) => r as AuditResult;
const codes = (r: unknown) =>
  audit(r)
    .findings.map((f) => f.code)
    .sort();
const DAY = 86_400_000;

describe('audit run', () => {
  it('finds a freshly rotated, healthy server compliant and writes nothing anywhere', async () => {
    const h = new Harness();
    h.datagrid.addServer('s1', 'ts_1');
    h.secrets.put('m1', 'token-m1-value', h.clock.now() - 3 * DAY);
    const cfg = config([target('s1', 'm1', { teamspaceId: 'ts_1' })]);
    await h.run(cfg);
    const writes = h.state.writes.length;
    const patches = h.datagrid.patches.length;
    const summary = await h.run(cfg, request({ action: 'audit', trigger: 'schedule' }));
    expect(audit(summary.results[0])).toMatchObject({
      serverId: 's1',
      teamspaceId: 'ts_1',
      serverName: 'Server s1',
      compliant: true,
      findings: [],
      status: 'active',
      toolCount: 3,
      credentialAgeDays: 3,
    });
    expect(audit(summary.results[0]).appliedVersionId).toBe(audit(summary.results[0]).currentVersionId);
    expect(summary.counts).toMatchObject({ compliant: 1, noncompliant: 0 });
    expect(h.state.writes.length).toBe(writes);
    expect(h.state.leaseCalls).toHaveLength(1);
    expect(h.datagrid.patches.length).toBe(patches);
    expect(h.datagrid.calls.at(-1)).toEqual({ method: 'list', teamspace: 'ts_1' });
    expect(h.events.events.at(-2)).toMatchObject({
      detailType: 'MCP Credential Audit Result',
      detail: { runId: 'run-2', compliant: true },
    });
  });

  it('reports every finding code', async () => {
    const h = new Harness();
    for (const id of ['never', 'drift', 'old', 'sick', 'ref', 'failed']) {
      h.datagrid.addServer(id, undefined);
      h.secrets.put(`m/${id}`, `token-${id}-value`, h.clock.now() - 200 * DAY);
    }
    const targets = ['never', 'drift', 'old', 'sick', 'ref', 'failed', 'ghost'].map((id) =>
      target(id, `m/${id === 'ghost' ? 'old' : id}`),
    );
    const cfg = config(targets);
    await h.run(cfg, request({ targets: ['drift', 'old', 'sick', 'ref', 'failed'] }));
    h.secrets.put('m/drift', 'token-drift-newer');
    h.datagrid.server('sick')!.status = 'error';
    h.datagrid.server('sick')!.metadata = { tool_count: 0 };
    h.datagrid.server('ref')!.authorization_secret_id = 'sec_swapped';
    h.state.items.get(statePk(undefined, 'failed'))!.lastOutcome = 'failed';
    h.state.items.get(statePk(undefined, 'failed'))!.lastErrorCode = 'VERIFY_UNHEALTHY';

    const summary = await h.run(
      config(targets.map((t) => (t.serverId === 'old' ? t : { ...t, maxCredentialAgeDays: 365 }))),
      request({ action: 'audit' }),
    );
    const [never, drift, old, sick, ref, failed, ghost] = summary.results;
    expect(codes(never)).toEqual(['NEVER_ROTATED']);
    expect(codes(drift)).toEqual(['CREDENTIAL_DRIFT']);
    expect(codes(old)).toEqual(['CREDENTIAL_TOO_OLD']);
    expect(audit(old).credentialAgeDays).toBe(200);
    expect(codes(sick)).toEqual(['STATUS_UNHEALTHY', 'TOOL_COUNT_BELOW_MIN']);
    expect(codes(ref)).toEqual(['AUTH_REFERENCE_CHANGED']);
    expect(codes(failed)).toEqual(['LAST_ROTATION_FAILED']);
    expect(codes(ghost)).toEqual(['NEVER_ROTATED', 'SERVER_NOT_FOUND']);
    expect(summary.counts).toMatchObject({ compliant: 0, noncompliant: 7, failed: 0 });
    expect(h.progress.slice(-7).map(([, finished, total]) => `${finished}/${total}`)).toEqual([
      '1/7',
      '2/7',
      '3/7',
      '4/7',
      '5/7',
      '6/7',
      '7/7',
    ]);
    for (const r of summary.results) for (const f of audit(r).findings) expect(f.message.length).toBeGreaterThan(5);
  });

  it('reports secrets it cannot read as findings, not as run failures', async () => {
    const h = new Harness();
    h.datagrid.addServer('s', undefined);
    const summary = await h.run(config([target('s', 'missing/secret')]), request({ action: 'audit' }));
    expect(codes(summary.results[0])).toEqual(['NEVER_ROTATED', 'SECRET_NOT_FOUND']);
  });
});
