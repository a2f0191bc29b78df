/** The fields every rotation result of a target starts from, whatever happened to it. */
import type { ResolvedTarget } from '../types/index.ts';
import type { RotationResult } from '../types/results.ts';

/** A target's result before anything is known: `failed` until the rotation says otherwise, nothing attempted. */
export function targetResult(target: ResolvedTarget, fields: Partial<RotationResult> = {}): RotationResult {
  return {
    serverId: target.serverId,
    ...(target.teamspaceId !== undefined && { teamspaceId: target.teamspaceId }),
    secretId: target.secretId,
    outcome: 'failed',
    rolledBack: false,
    attempts: 0,
    durationMs: 0,
    ...fields,
  };
}
