/**
 * A PATCH whose answer is lost may have landed: the adapter says so with DatagridOutcomeUnknownError, which the
 * engine answers by reading the server. A PATCH that certainly got an answer, and every GET, keep DatagridError.
 */
import { describe, expect, it } from 'vitest';
import { createDatagridApiFactory } from '../../../lambda/adapters/datagrid.ts';
import { DatagridError, DatagridOutcomeUnknownError } from '../../../lambda/errors.ts';
import { useMockDatagrid } from '../../support/mock-datagrid.ts';

const ORIGIN = 'https://api.datagrid.test';
const SERVER_PATH = '/v1/organization/mcp-servers/srv_1';
const AUTHORIZATION = 'Bearer canary-lost-answer-token-5d1e';

const dg = useMockDatagrid(ORIGIN);

const api = (maxAttempts = 2) =>
  createDatagridApiFactory({
    baseUrl: `${ORIGIN}/v1`,
    requestTimeoutMs: 50,
    maxAttempts,
    clock: dg.clock,
    random: () => 0.5,
    dispatcher: dg.agent,
  })('canary-lost-answer-api-key-9b2c');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

const patch = () => api().updateAuthorization(undefined, 'srv_1', AUTHORIZATION);
const reset = () => Object.assign(new Error('other side closed'), { name: 'SocketError', code: 'UND_ERR_SOCKET' });

describe('a PATCH whose answer was lost', () => {
  it('is outcome-unknown when the connection drops on every attempt', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'PATCH' }).replyWithError(reset()).times(2);
    const error = await rejection(patch());
    expect(error).toBeInstanceOf(DatagridOutcomeUnknownError);
    expect(error).toMatchObject({ code: 'DATAGRID_UNAVAILABLE', attempts: 2 });
    expect((error as Error).message).toMatch(/the change may have been applied/);
    expect((error as Error).message).not.toContain('canary');
  });

  it('is outcome-unknown when every attempt times out', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'PATCH' }).reply(200, '{}').delay(1_000).times(2);
    expect(await rejection(patch())).toBeInstanceOf(DatagridOutcomeUnknownError);
  });

  it('is outcome-unknown when a 2xx body is not a valid server', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'PATCH' }).reply(200, '<html>proxy</html>').times(2);
    expect(await rejection(patch())).toBeInstanceOf(DatagridOutcomeUnknownError);
  });

  it('stays outcome-unknown when a later attempt is answered with an error', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'PATCH' }).replyWithError(reset());
    dg.pool.intercept({ path: SERVER_PATH, method: 'PATCH' }).reply(503, '');
    expect(await rejection(patch())).toBeInstanceOf(DatagridOutcomeUnknownError);
  });

  it('is a plain DatagridError when every attempt was answered (503), and for a GET', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'PATCH' }).reply(503, '').times(2);
    const answered = await rejection(patch());
    expect(answered).toBeInstanceOf(DatagridError);
    expect(answered).not.toBeInstanceOf(DatagridOutcomeUnknownError);

    dg.pool.intercept({ path: SERVER_PATH, method: 'GET' }).replyWithError(reset()).times(2);
    const read = await rejection(api().getServer(undefined, 'srv_1'));
    expect(read).not.toBeInstanceOf(DatagridOutcomeUnknownError);
  });
});
