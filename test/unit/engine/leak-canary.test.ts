/**
 * Leak canary over whole engine runs: recognisable secret values, Authorization values and the API key must appear
 * nowhere in logs, events, results or errors, whatever path the run takes.
 */
import { describe, expect, it } from 'vitest';
import { DatagridError } from '../../../lambda/errors.ts';
import type { RotationResult } from '../../../lambda/types/results.ts';
import { Harness, config, request, target } from '../../support/engine-harness.ts';

const CANARIES = ['CANARY-tok-1f9e8d7c', 'CANARY-tok-2b3c4d5e', 'CANARY-tok-bad-9a8b', 'CANARY-json-77aa66bb'];

describe('leak canary (engine)', () => {
  it('no secret, Authorization value or API key appears in logs, events, results or errors', async () => {
    const h = new Harness();
    h.datagrid.validApiKey = 'CANARY-apikey-0c0ffee0';
    h.secrets.put('datagrid/api-key', h.datagrid.validApiKey);
    for (const id of ['a', 'b', 'c', 'd']) h.datagrid.addServer(id, 'ts');
    h.secrets.put('m/a', CANARIES[0]!);
    h.secrets.put('m/b', CANARIES[1]!);
    h.secrets.put('m/c', JSON.stringify({ token: CANARIES[3] }));
    h.secrets.put('m/d', `${CANARIES[0]}\n`);
    const cfg = config(
      [
        target('a', 'm/a', { teamspaceId: 'ts' }),
        target('b', 'm/b', { teamspaceId: 'ts', headerTemplate: 'Token {{secret}}' }),
        target('c', 'm/c', { teamspaceId: 'ts', jsonKey: 'token' }),
        target('d', 'm/d', { teamspaceId: 'ts' }),
      ],
      { haltAfterFailures: 0 },
    );
    const outputs: unknown[] = [];
    const attempt = async (req = request()) => {
      try {
        outputs.push(await h.run(cfg, req));
      } catch (error) {
        outputs.push(String(error), (error as Error).stack);
      }
    };
    await attempt();
    // A new credential that the server rejects, then a rollback.
    h.secrets.put('m/a', CANARIES[2]!);
    h.datagrid.resync = (_id, auth) => (auth.includes('bad') ? { status: 'error' } : { status: 'active', tools: 2 });
    await attempt();
    // Datagrid echoing the submitted value in an error body.
    h.datagrid.failures.set('patch', [
      new DatagridError('DATAGRID_REJECTED', `HTTP 422: invalid authorization "Bearer ${CANARIES[2]}"`, {
        status: 422,
        attempts: 1,
      }),
    ]);
    await attempt(request({ force: true }));
    await attempt(request({ action: 'audit' }));
    await attempt(request({ dryRun: true, force: true }));
    await attempt(request({ incidentId: 'INC-1', force: true, trigger: 'incident' }));

    const everything = JSON.stringify([outputs, h.events.events, h.log.lines]);
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything).toContain('rolled back');
    for (const canary of [...CANARIES, h.datagrid.validApiKey]) expect(everything).not.toContain(canary);
  });

  it('redacts the bare credential of a jsonKey secret when the upstream echoes it alone (in status, then messages)', async () => {
    const h = new Harness();
    const token = 'CANARY-json-bare-4e5f6a7b';
    h.datagrid.addServer('a', 'ts');
    h.secrets.put('m/a', JSON.stringify({ token, note: 'n' }));
    // Datagrid (or the MCP server behind it) reflects the credential it was given as the server's status.
    h.datagrid.resync = (_id, authorization) => ({ status: authorization.replace(/^Bearer /, ''), tools: 1 });
    const summary = await h.run(config([target('a', 'm/a', { teamspaceId: 'ts', jsonKey: 'token' })]));
    const [result] = summary.results as RotationResult[];
    expect(result).toMatchObject({ outcome: 'failed', status: '[REDACTED]', error: { code: 'VERIFY_UNHEALTHY' } });
    expect(result!.error!.message).toContain('server status is "[REDACTED]"');
    expect(JSON.stringify([summary, h.events.events, h.log.lines, h.progress])).not.toContain(token);
  });

  it('keeps configured ids and statuses intact in results when a secret equals one, and redacts it elsewhere', async () => {
    const h = new Harness();
    h.datagrid.addServer('srv_b', 'ts');
    h.datagrid.addServer('srv_c', 'ts');
    // Two weak secrets: one equal to the healthy status, one equal to a server id.
    h.secrets.put('m/b', 'active');
    h.secrets.put('m/c', 'srv_b');
    // The upstream of srv_c reflects the credential ("srv_b") as its status: a value no configured status has.
    h.datagrid.resync = (id, authorization) =>
      id === 'srv_c' ? { status: authorization.replace(/^Bearer /, ''), tools: 1 } : { status: 'active', tools: 2 };
    const cfg = config([target('srv_b', 'm/b', { teamspaceId: 'ts' }), target('srv_c', 'm/c', { teamspaceId: 'ts' })], {
      haltAfterFailures: 0,
    });
    const summary = await h.run(cfg);
    const [b, c] = summary.results as RotationResult[];
    expect(b).toMatchObject({
      serverId: 'srv_b',
      teamspaceId: 'ts',
      secretId: 'm/b',
      outcome: 'rotated',
      status: 'active',
    });
    expect(c).toMatchObject({ serverId: 'srv_c', outcome: 'failed', status: '[REDACTED]' });
    expect(c!.error!.message).not.toContain('srv_b');
    const events = h.events.events.map((e) => e.detail);
    expect(events).toContainEqual(expect.objectContaining({ serverId: 'srv_b', status: 'active', outcome: 'rotated' }));
    const everything = JSON.stringify([summary, h.events.events, h.log.lines]);
    expect(everything).not.toContain('Bearer active');
    expect(everything).not.toContain('Bearer srv_b');
    // "srv_b" appears only as a serverId (and a log's target key), never as a status or inside a message.
    expect(everything.replaceAll('"serverId":"srv_b"', '').replaceAll('"target":"ts/srv_b"', '')).not.toMatch(/srv_b/);
  });
});
