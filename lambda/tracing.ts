/**
 * X-Ray tracing with Powertools Tracer, when the deployment turns it on (`ROTATOR_TRACING=true`, which the
 * construct sets together with active tracing): every AWS SDK call and every outgoing HTTP request (Datagrid, the
 * MCP servers) becomes a subsegment of the invocation's trace. Loaded only then: the X-Ray SDK is large and patches
 * Node's HTTP modules, which an untraced function should not pay for.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { ROTATOR_NAME } from './constants.ts';

export const TRACING_ENV = 'ROTATOR_TRACING';

/** What `captureAWSv3Client` instruments: any AWS SDK v3 client. */
type AwsSdkClient = Parameters<Tracer['captureAWSv3Client']>[0];

/** Instruments the given clients (and Node's HTTP stack) when tracing is on; resolves to whether it did. */
export async function traceAwsClients(env: NodeJS.ProcessEnv, clients: readonly AwsSdkClient[]): Promise<boolean> {
  if (env[TRACING_ENV] !== 'true') return false;
  const powertools = await import('@aws-lambda-powertools/tracer');
  // Outside Lambda (AWS_EXECUTION_ENV unset) Tracer turns itself off: local runs and tests stay untraced.
  const tracer = new powertools.Tracer({ serviceName: ROTATOR_NAME });
  for (const client of clients) tracer.captureAWSv3Client(client);
  return tracer.isTracingEnabled();
}
