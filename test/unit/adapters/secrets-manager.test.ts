import {
  BatchGetSecretValueCommand,
  DecryptionFailure,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { BatchGetSecretValueCommandInput, SecretValueEntry } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretSource, groupSecretIds } from '../../../lambda/adapters/secrets-manager.ts';
import { InvalidSecretValueError, SecretError } from '../../../lambda/errors.ts';
import type { SecretValue } from '../../../lambda/types/index.ts';
import { CapturingLog } from '../../support/fakes.ts';

const REGION = 'us-east-1';
const LOCATION = `arn:aws:secretsmanager:${REGION}:123456789012:secret:`;
const CANARY = 'CANARY-SECRET-7c1d0b2e';
const arnOf = (name: string): string => `${LOCATION}${name}-AbC123`;
const valueOf = (name: string): string => `${CANARY}:${name}`;
const created = new Date('2025-01-02T03:04:05Z');

function entry(name: string): SecretValueEntry {
  return {
    ARN: arnOf(name),
    Name: name,
    VersionId: `ver-${name.replaceAll('/', '-')}`,
    SecretString: valueOf(name),
    VersionStages: ['AWSCURRENT'],
    CreatedDate: created,
  };
}

/** The secret name an id denotes, the way Secrets Manager resolves it in this fake. */
function nameOf(id: string): string {
  return id.startsWith(LOCATION) ? id.slice(LOCATION.length).replace(/-AbC123$/, '') : id;
}

const sm = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: REGION });
let log: CapturingLog;

function batchInputs(): BatchGetSecretValueCommandInput[] {
  return sm.commandCalls(BatchGetSecretValueCommand).map((call) => call.args[0].input);
}

/** Every secret exists unless named in `missing`; answers like Secrets Manager does for a SecretIdList. */
function serveSecrets(missing: string[] = []): void {
  sm.on(BatchGetSecretValueCommand).callsFake((input: BatchGetSecretValueCommandInput) => {
    const ids = input.SecretIdList ?? [];
    return {
      SecretValues: ids.filter((id) => !missing.includes(nameOf(id))).map((id) => entry(nameOf(id))),
      Errors: ids
        .filter((id) => missing.includes(nameOf(id)))
        .map((id) => ({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: `no ${id} ${CANARY}` })),
    };
  });
}

function valueAt(results: Map<string, SecretValue | Error>, id: string): SecretValue {
  const result = results.get(id);
  if (!(result && !(result instanceof Error))) throw new Error(`no value for ${id}: ${String(result)}`);
  return result;
}

function errorAt(results: Map<string, SecretValue | Error>, id: string): Error {
  const result = results.get(id);
  if (!(result instanceof Error)) throw new Error(`expected an error for ${id}`);
  return result;
}

beforeEach(() => {
  sm.reset();
  log = new CapturingLog();
});
afterEach(() => {
  // The canary: no secret value reaches a log line, whatever the test did.
  expect(log.text()).not.toContain(CANARY);
});

describe('getCurrent', () => {
  it('returns the AWSCURRENT value with its identity and creation time', async () => {
    serveSecrets();
    const results = await createSecretSource(client, log).getCurrent(['mcp/github']);
    expect(results.get('mcp/github')).toEqual({
      secretId: 'mcp/github',
      arn: arnOf('mcp/github'),
      name: 'mcp/github',
      versionId: 'ver-mcp-github',
      value: valueOf('mcp/github'),
      createdAt: created.getTime(),
    });
  });

  it('asks for at most 20 secrets a call: 45 ids make 3 calls', async () => {
    serveSecrets();
    const ids = Array.from({ length: 45 }, (_, index) => `mcp/server-${index}`);
    const results = await createSecretSource(client, log).getCurrent(ids);

    const inputs = batchInputs();
    expect(inputs).toHaveLength(3);
    expect(inputs.map((input) => input.SecretIdList?.length)).toEqual([20, 20, 5]);
    expect(inputs.flatMap((input) => input.SecretIdList)).toEqual(ids);
    expect(inputs.every((input) => input.Filters === undefined)).toBe(true);
    for (const id of ids) expect(valueAt(results, id).value).toBe(valueOf(id));
  });

  it('asks once for a secret named by name, full ARN, partial ARN and duplicates, and answers every id', async () => {
    serveSecrets();
    const ids = [
      'mcp/github',
      arnOf('mcp/github'),
      `${LOCATION}mcp/github`,
      'mcp/github',
      'mcp/slack',
      arnOf('mcp/slack'),
      'mcp/slack',
    ];
    const results = await createSecretSource(client, log).getCurrent(ids);

    const inputs = batchInputs();
    expect(inputs).toHaveLength(1);
    // The full ARN is the most precise spelling, so it is the one sent.
    expect(inputs[0]?.SecretIdList).toEqual([arnOf('mcp/github'), arnOf('mcp/slack')]);
    expect([...results.keys()].sort()).toEqual([...new Set(ids)].sort());
    for (const id of ids) {
      const value = valueAt(results, id);
      expect(value.secretId).toBe(id);
      expect(value.value).toBe(valueOf(nameOf(id)));
      expect(value.arn).toBe(arnOf(nameOf(id)));
    }
  });

  it('a bare name joins a partial ARN of the same secret', async () => {
    serveSecrets();
    const results = await createSecretSource(client, log).getCurrent(['mcp/github', `${LOCATION}mcp/github`]);
    expect(batchInputs()[0]?.SecretIdList).toEqual([`${LOCATION}mcp/github`]);
    expect(valueAt(results, 'mcp/github').value).toBe(valueOf('mcp/github'));
    expect(valueAt(results, `${LOCATION}mcp/github`).value).toBe(valueOf('mcp/github'));
  });

  it('does not give a bare name the value of a same-named secret in another region', async () => {
    const foreign = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/github-XyZ789';
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [
        { ...entry('mcp/github'), ARN: foreign, SecretString: `${CANARY}:eu`, VersionId: 'eu' },
        entry('mcp/github'),
      ],
    });
    const results = await createSecretSource(client, log).getCurrent(['mcp/github', foreign]);

    expect(batchInputs()[0]?.SecretIdList).toEqual([foreign, 'mcp/github']);
    expect(valueAt(results, foreign).versionId).toBe('eu');
    expect(valueAt(results, 'mcp/github').versionId).toBe('ver-mcp-github');
  });

  it('follows NextToken with the same id list until there is none', async () => {
    sm.on(BatchGetSecretValueCommand)
      .resolvesOnce({ SecretValues: [entry('a')], NextToken: 'page-2' })
      .resolvesOnce({ SecretValues: [entry('b')], NextToken: 'page-3' })
      .resolvesOnce({ SecretValues: [entry('c')] });
    const results = await createSecretSource(client, log).getCurrent(['a', 'b', 'c']);

    expect(batchInputs()).toEqual([
      { SecretIdList: ['a', 'b', 'c'], NextToken: undefined },
      { SecretIdList: ['a', 'b', 'c'], NextToken: 'page-2' },
      { SecretIdList: ['a', 'b', 'c'], NextToken: 'page-3' },
    ]);
    expect(['a', 'b', 'c'].map((id) => valueAt(results, id).value)).toEqual(['a', 'b', 'c'].map(valueOf));
  });

  it('stops when the service repeats a NextToken', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({ SecretValues: [entry('a')], NextToken: 'same' });
    const results = await createSecretSource(client, log).getCurrent(['a']);
    expect(batchInputs()).toHaveLength(2);
    expect(valueAt(results, 'a').value).toBe(valueOf('a'));
  });

  it.each([
    ['ResourceNotFoundException', 'SECRET_NOT_FOUND', 'secret mcp/x: not found (ResourceNotFoundException)'],
    ['AccessDeniedException', 'SECRET_ACCESS_DENIED', 'secret mcp/x: access denied (AccessDeniedException)'],
    [
      'DecryptionFailure',
      'SECRET_ACCESS_DENIED',
      'secret mcp/x: cannot be decrypted with its KMS key (DecryptionFailure)',
    ],
    ['KMSAccessDeniedException', 'SECRET_ACCESS_DENIED', 'secret mcp/x: access denied (KMSAccessDeniedException)'],
    ['InvalidRequestException', 'SECRET_ACCESS_DENIED', 'secret mcp/x: could not be read (InvalidRequestException)'],
    ['not an error-name', 'SECRET_ACCESS_DENIED', 'secret mcp/x: could not be read (unrecognised error)'],
  ])('maps a per-secret %s to %s', async (errorCode, code, message) => {
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [entry('mcp/ok')],
      Errors: [{ SecretId: 'mcp/x', ErrorCode: errorCode, Message: `details for mcp/x ${CANARY}` }],
    });
    const results = await createSecretSource(client, log).getCurrent(['mcp/ok', 'mcp/x']);

    const error = errorAt(results, 'mcp/x');
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ code, message });
    expect(valueAt(results, 'mcp/ok').value).toBe(valueOf('mcp/ok'));
  });

  it('tells a per-secret error to every id that named the secret', async () => {
    serveSecrets(['mcp/gone']);
    const results = await createSecretSource(client, log).getCurrent(['mcp/gone', arnOf('mcp/gone')]);
    expect(errorAt(results, 'mcp/gone').message).toBe('secret mcp/gone: not found (ResourceNotFoundException)');
    expect(errorAt(results, arnOf('mcp/gone')).message).toBe(
      `secret ${arnOf('mcp/gone')}: not found (ResourceNotFoundException)`,
    );
  });

  it('an id absent from the answer is SECRET_NOT_FOUND', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({ SecretValues: [entry('a')] });
    const results = await createSecretSource(client, log).getCurrent(['a', 'b']);
    expect(errorAt(results, 'b')).toMatchObject({
      code: 'SECRET_NOT_FOUND',
      message: 'secret b: not found (absent from the Secrets Manager answer)',
    });
  });

  it('a binary-only secret is INVALID_SECRET_VALUE', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [{ ...entry('bin'), SecretString: undefined, SecretBinary: new TextEncoder().encode(CANARY) }],
    });
    const results = await createSecretSource(client, log).getCurrent(['bin']);
    const error = errorAt(results, 'bin');
    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect(error).toMatchObject({
      code: 'INVALID_SECRET_VALUE',
      message: 'secret bin: holds a binary value (SecretBinary); a SecretString is required',
    });
  });

  it.each([
    [
      'AccessDeniedException on the action',
      Object.assign(new Error(`User is not authorized ${CANARY}`), { name: 'AccessDeniedException' }),
      'SECRET_ACCESS_DENIED',
      'access denied (AccessDeniedException)',
    ],
    [
      'a network error after the SDK retries',
      Object.assign(new Error(`connect ECONNREFUSED ${CANARY}`), { code: 'ECONNREFUSED' }),
      'SECRET_ACCESS_DENIED',
      'could not be read (Error (ECONNREFUSED))',
    ],
    [
      'ResourceNotFoundException for the call',
      new ResourceNotFoundException({ message: `not found ${CANARY}`, $metadata: {} }),
      'SECRET_NOT_FOUND',
      'not found (ResourceNotFoundException)',
    ],
  ])('maps a whole-call failure (%s) to every id of that batch only', async (_label, thrown, code, reason) => {
    const ids = Array.from({ length: 25 }, (_, index) => `s${index}`);
    sm.on(BatchGetSecretValueCommand)
      .rejectsOnce(thrown)
      .callsFake((input: BatchGetSecretValueCommandInput) => ({
        SecretValues: (input.SecretIdList ?? []).map((id) => entry(id)),
      }));
    const results = await createSecretSource(client, log).getCurrent(ids);

    expect(batchInputs()).toHaveLength(2);
    const failedBatch = batchInputs()[0]?.SecretIdList ?? [];
    expect(failedBatch).toHaveLength(20);
    for (const id of ids) {
      if (failedBatch.includes(id)) {
        expect(errorAt(results, id)).toBeInstanceOf(SecretError);
        expect(errorAt(results, id)).toMatchObject({ code, message: `secret ${id}: ${reason}` });
      } else {
        expect(valueAt(results, id).value).toBe(valueOf(id));
      }
    }
    expect(log.lines).toHaveLength(1);
  });

  it('keeps the values of earlier pages when a later page fails', async () => {
    sm.on(BatchGetSecretValueCommand)
      .resolvesOnce({ SecretValues: [entry('a')], NextToken: 'next' })
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const results = await createSecretSource(client, log).getCurrent(['a', 'b']);
    expect(valueAt(results, 'a').value).toBe(valueOf('a'));
    expect(errorAt(results, 'b').message).toBe('secret b: could not be read (Error (ECONNRESET))');
  });

  it('asks nothing for an empty list', async () => {
    const results = await createSecretSource(client, log).getCurrent([]);
    expect(results.size).toBe(0);
    expect(batchInputs()).toHaveLength(0);
  });
});

describe('getVersion', () => {
  it('reads one version by VersionId', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'mcp/github', VersionId: 'old' }).resolves({
      ...entry('mcp/github'),
      VersionId: 'old',
      SecretString: 'previous',
      VersionStages: ['AWSPREVIOUS'],
    });
    const value = await createSecretSource(client, log).getVersion('mcp/github', 'old');
    expect(value).toEqual({
      secretId: 'mcp/github',
      arn: arnOf('mcp/github'),
      name: 'mcp/github',
      versionId: 'old',
      value: 'previous',
      createdAt: created.getTime(),
    });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it.each([
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: `no version ${CANARY}`, $metadata: {} }),
      'SECRET_NOT_FOUND',
      'secret mcp/github version old: not found (ResourceNotFoundException)',
    ],
    [
      'DecryptionFailure',
      new DecryptionFailure({ message: `kms says no ${CANARY}`, $metadata: {} }),
      'SECRET_ACCESS_DENIED',
      'secret mcp/github version old: cannot be decrypted with its KMS key (DecryptionFailure)',
    ],
    [
      'AccessDeniedException',
      Object.assign(new Error(`denied ${CANARY}`), { name: 'AccessDeniedException' }),
      'SECRET_ACCESS_DENIED',
      'secret mcp/github version old: access denied (AccessDeniedException)',
    ],
  ])('throws a SecretError for %s', async (_label, thrown, code, message) => {
    sm.on(GetSecretValueCommand).rejects(thrown);
    const error: unknown = await createSecretSource(client, log)
      .getVersion('mcp/github', 'old')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ code, message });
  });

  it('throws InvalidSecretValueError for a binary version', async () => {
    sm.on(GetSecretValueCommand).resolves({
      ...entry('bin'),
      SecretString: undefined,
      SecretBinary: new Uint8Array(3),
    });
    await expect(createSecretSource(client, log).getVersion('bin', 'v')).rejects.toThrow(InvalidSecretValueError);
  });
});

describe('groupSecretIds', () => {
  it('keeps two full ARNs of one name apart (a secret deleted and re-created)', () => {
    const older = `${LOCATION}mcp/github-Old111`;
    const groups = groupSecretIds([older, arnOf('mcp/github'), 'mcp/github'], REGION);
    expect(groups.map((group) => group.request)).toEqual([older, arnOf('mcp/github'), 'mcp/github']);
  });

  it('joins a bare name to the one ARN of its name when the client region is unknown', () => {
    expect(groupSecretIds(['mcp/github', arnOf('mcp/github')], undefined)).toHaveLength(1);
  });
});

describe('canary', () => {
  it('no secret value appears in any error message, whatever fails', async () => {
    sm.on(BatchGetSecretValueCommand)
      .resolvesOnce({
        SecretValues: [{ ...entry('bin'), SecretString: undefined, SecretBinary: new TextEncoder().encode(CANARY) }],
        Errors: [
          { SecretId: 'denied', ErrorCode: 'AccessDeniedException', Message: CANARY },
          { SecretId: 'odd', ErrorCode: CANARY, Message: CANARY },
        ],
      })
      .rejectsOnce(Object.assign(new Error(CANARY), { name: 'ThrottlingException' }));
    const ids = ['bin', 'denied', 'odd', 'missing', ...Array.from({ length: 20 }, (_, index) => `more${index}`)];
    const results = await createSecretSource(client, log).getCurrent(ids);

    const messages = [...results.values()].map((result) => (result as Error).message);
    expect(messages).toHaveLength(ids.length);
    for (const message of messages) expect(message).not.toContain(CANARY);

    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error(CANARY), { name: 'InternalServiceError' }));
    const error = (await createSecretSource(client, log)
      .getVersion('x', 'v')
      .catch((caught: unknown) => caught)) as Error;
    expect(error.message).toBe('secret x version v: could not be read (InternalServiceError)');
  });
});
