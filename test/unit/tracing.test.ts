/** Powertools Tracer instruments the AWS SDK clients only when the deployment turns tracing on. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { traceAwsClients } from '../../lambda/tracing.ts';

const xrayMiddleware = (client: DynamoDBClient | EventBridgeClient) =>
  client.middlewareStack.identify().filter((name) => /xray/i.test(name));

describe('traceAwsClients', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('leaves the clients alone unless ROTATOR_TRACING is true', async () => {
    const client = new DynamoDBClient({ region: 'us-east-1' });
    expect(await traceAwsClients({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }, [client])).toBe(false);
    expect(xrayMiddleware(client)).toEqual([]);
  });

  it('adds the X-Ray subsegment middleware to every client in Lambda with tracing on', async () => {
    // Tracer reads the Lambda environment from process.env itself.
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs24.x');
    vi.stubEnv('_X_AMZN_TRACE_ID', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    const clients = [new DynamoDBClient({ region: 'us-east-1' }), new EventBridgeClient({ region: 'us-east-1' })];
    expect(await traceAwsClients({ ROTATOR_TRACING: 'true' }, clients)).toBe(true);
    for (const client of clients) expect(xrayMiddleware(client)).not.toEqual([]);
  });
});
