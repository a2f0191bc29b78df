/**
 * Builds dist/handler.mjs once per test run, with `npm run build`'s script, so the end-to-end suites drive exactly
 * the bundle that is deployed.
 */
import { buildBundle } from '../../../local/bundle.ts';

export async function setup(): Promise<void> {
  await buildBundle();
}
