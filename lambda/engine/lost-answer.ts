/**
 * A PATCH whose answer was lost (connection cut, timeout, an answer that is not a valid server) may still have been
 * applied. The server read afterwards tells: Datagrid documents that a sent `authorization` creates or rotates a
 * Datagrid-managed secret and that any auth change starts a re-sync, so a changed `authorization_secret_id`, a later
 * `last_synced_at` or `updated_at`, or a re-sync under way all mean it landed.
 */
import type { McpServer, ResolvedTarget } from '../types/index.ts';
import { lastSyncedAtOf } from './verify.ts';

/** Datagrid timestamps are compared with each other, never with our clock; unparseable ones count if they changed. */
function later(after: string | undefined, before: string | undefined): boolean {
  if (after === undefined || after === before) return false;
  if (before === undefined) return true;
  const a = Date.parse(after);
  const b = Date.parse(before);
  return Number.isNaN(a) || Number.isNaN(b) ? true : a > b;
}

/** What in `after` shows that the PATCH landed, or undefined when nothing does. */
export function signOfChange(
  before: McpServer,
  after: McpServer,
  rules: Pick<ResolvedTarget, 'pendingStatuses'>,
): string | undefined {
  if (after.authorization_secret_id !== before.authorization_secret_id) return 'authorization_secret_id changed';
  if (later(lastSyncedAtOf(after), lastSyncedAtOf(before))) return 'last_synced_at advanced';
  if (later(after.updated_at, before.updated_at)) return 'updated_at advanced';
  if (rules.pendingStatuses.includes(after.status) && !rules.pendingStatuses.includes(before.status)) {
    return `a re-sync is under way (status "${after.status}")`;
  }
  return undefined;
}
