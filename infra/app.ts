/**
 * `cdk synth` / `cdk deploy` entry (cdk.json: `node infra/app.ts`). An invalid configuration file stops here with
 * the same message the handler would give, and no stack trace in the way.
 */
import { ConfigError } from '../lambda/errors.ts';
import { createRotatorApp } from './rotator-app.ts';

try {
  createRotatorApp().app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
