/**
 * Builds dist/handler.mjs once per test run, with `npm run build`'s script, so the end-to-end suites drive exactly
 * the bundle that is deployed. Before that, makes sure moto_server and cfn-lint can be run (installing them into
 * .venv/ on first use when they are not on the PATH), once, before the test files start in parallel.
 */
import { buildBundle } from '../../../local/bundle.ts';
import { ensurePythonTools } from '../../../local/python-tools.ts';

export async function setup(): Promise<void> {
  await ensurePythonTools();
  await buildBundle();
}
