/**
 * Leak canary over whole engine runs: recognisable secret values, Authorization values and the API key must appear
 * nowhere in logs, events, results or errors, whatever path the run takes.
 */
import { describe, expect, it } from 'vitest';
import { DatagridError } from '../../../lambda/errors.ts';
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
});
