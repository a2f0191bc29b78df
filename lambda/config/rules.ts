/**
 * Configuration rules across fields, checked on the raw input so they are reported alongside field errors rather
 * than after they are fixed.
 */
import { DEFAULT_TARGET_SETTINGS } from '../constants.ts';
import { isRecord } from '../is-record.ts';
import { targetKey } from './resolve.ts';

/** A list of strings; undefined when absent; null when present but invalid (already reported by the schema). */
function statusesOf(value: unknown): readonly string[] | undefined | null {
  if (value === undefined) return undefined;
  return Array.isArray(value) && value.every((s) => typeof s === 'string') ? value : null;
}

type StatusField = 'healthyStatuses' | 'pendingStatuses';
/** The lists a level inherits when it does not set its own, and where they come from (for the message). */
type InheritedStatuses = Record<StatusField, { statuses: readonly string[]; from: string }>;

const BUILT_IN_STATUSES: InheritedStatuses = {
  healthyStatuses: { statuses: DEFAULT_TARGET_SETTINGS.healthyStatuses, from: 'built-in default' },
  pendingStatuses: { statuses: DEFAULT_TARGET_SETTINGS.pendingStatuses, from: 'built-in default' },
};

function inheritFromDefaults(defaults: Record<string, unknown>): InheritedStatuses {
  const inherit = (field: StatusField) => {
    const own = statusesOf(defaults[field]);
    return own ? { statuses: own, from: 'from defaults' } : BUILT_IN_STATUSES[field];
  };
  return { healthyStatuses: inherit('healthyStatuses'), pendingStatuses: inherit('pendingStatuses') };
}

/** A status both healthy and pending would make verification ambiguous; reported where the user set a list. */
function overlapIssue(
  where: string,
  settings: Record<string, unknown>,
  inherited: InheritedStatuses,
): string | undefined {
  const healthy = statusesOf(settings.healthyStatuses);
  const pending = statusesOf(settings.pendingStatuses);
  if (healthy === null || pending === null || (healthy === undefined && pending === undefined)) return undefined;
  const healthyList = healthy ?? inherited.healthyStatuses.statuses;
  const shared = (pending ?? inherited.pendingStatuses.statuses).filter((status) => healthyList.includes(status));
  if (shared.length === 0) return undefined;
  // Name the list set at this level; the other one may be inherited, and the message says from where.
  const field: StatusField = pending !== undefined ? 'pendingStatuses' : 'healthyStatuses';
  const other: StatusField = field === 'pendingStatuses' ? 'healthyStatuses' : 'pendingStatuses';
  const otherIsInherited = (other === 'healthyStatuses' ? healthy : pending) === undefined;
  const from = otherIsInherited ? ` (${inherited[other].from})` : '';
  return `${where}.${field}: must not overlap ${other}${from}: ${shared.map((s) => JSON.stringify(s)).join(', ')}`;
}

/** Rules no field schema can check alone, on the raw input: overlapping status lists, duplicate targets. */
export function crossFieldIssues(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  const issues: string[] = [];
  let inherited = BUILT_IN_STATUSES;
  if (isRecord(raw.defaults)) {
    const defaultsIssue = overlapIssue('defaults', raw.defaults, BUILT_IN_STATUSES);
    if (defaultsIssue !== undefined) issues.push(defaultsIssue);
    inherited = inheritFromDefaults(raw.defaults);
  }
  if (!Array.isArray(raw.targets)) return issues;
  const firstIndexByKey = new Map<string, number>();
  raw.targets.forEach((target: unknown, index) => {
    if (!isRecord(target)) return;
    const targetIssue = overlapIssue(`targets[${index}]`, target, inherited);
    if (targetIssue !== undefined) issues.push(targetIssue);
    if (typeof target.serverId !== 'string') return;
    const key = targetKey(typeof target.teamspaceId === 'string' ? target.teamspaceId : undefined, target.serverId);
    const first = firstIndexByKey.get(key);
    if (first === undefined) firstIndexByKey.set(key, index);
    else issues.push(`targets[${index}]: duplicate of targets[${first}] (${key})`);
  });
  return issues;
}
