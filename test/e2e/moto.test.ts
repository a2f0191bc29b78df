/** The moto launcher: a real local Secrets Manager the rotator's e2e suites run against. */
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_NOT_FOUND, startMoto } from '../../local/moto.ts';
import type { RunningMoto } from '../../local/moto.ts';

let moto: RunningMoto;

beforeAll(async () => {
  moto = await startMoto();
});

afterAll(async () => {
  await moto?.close();
});

function secretsManager(): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: { accessKeyId: moto.env.AWS_ACCESS_KEY_ID!, secretAccessKey: moto.env.AWS_SECRET_ACCESS_KEY! },
  });
}

describe('startMoto', () => {
  it('serves Secrets Manager on a loopback port', async () => {
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(moto.env).toMatchObject({ AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: moto.region });
    const sm = secretsManager();
    const created = await sm.send(new CreateSecretCommand({ Name: 'mcp/github', SecretString: 'canary-ghp-token' }));
    expect(created.ARN).toContain('mcp/github');
    const read = await sm.send(new GetSecretValueCommand({ SecretId: 'mcp/github' }));
    expect(read).toMatchObject({ SecretString: 'canary-ghp-token', VersionId: created.VersionId });
  });

  it('forgets every resource on reset', async () => {
    const sm = secretsManager();
    await sm.send(new CreateSecretCommand({ Name: 'to-forget', SecretString: 'x' }));
    await moto.reset();
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'to-forget' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('fails loudly, with the install hint, when moto_server is missing', async () => {
    await expect(startMoto({ command: 'moto_server_definitely_missing' })).rejects.toThrow(MOTO_NOT_FOUND);
  });

  it('stops the process on close', async () => {
    const second = await startMoto();
    await second.close();
    await expect(fetch(`${second.endpoint}/moto-api/data.json`)).rejects.toThrow();
  });
});
