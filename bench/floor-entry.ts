/**
 * The cold-start floor: only the three AWS SDK clients the handler uses, imported and instantiated as the handler
 * does at module scope. Bundled with the Lambda's own esbuild options, so the difference to dist/handler.mjs is
 * what the rotator itself adds.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const clients = [new SecretsManagerClient({}), new DynamoDBClient({}), new EventBridgeClient({})];
