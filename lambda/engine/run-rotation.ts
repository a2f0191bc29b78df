/**
 * A rotation run: read every secret and every state record in batches, list each teamspace once, then rotate the
 * targets under global and per-teamspace concurrency limits, halting on systemic failure and stopping before the
 * Lambda's deadline.
 */
import pLimit from 'p-limit';
import type { ResolvedTarget, RotatorConfig } from '../types/index.ts';
import type { RotationResult } from '../types/results.ts';
import type { DatagridTurn, RunContext } from './context.ts';
import { ApiKeyUnavailableError, RotatorError, describeCause } from '../errors.ts';
import type { RunInputs } from './run-inputs.ts';
import { DEADLINE_MESSAGE, latestStartOf, rotateTarget, type TargetInputs } from './rotate-target.ts';
import { localHaltCounter, sharedHaltCounter } from './halting.ts';
import { statePkFor } from './state-key.ts';
import { targetResult } from './target-result.ts';

/** A failure that every target would share: the run halts after the first target that meets it. */
function systemicFailure(server: unknown): string | undefined {
  if (server instanceof ApiKeyUnavailableError) return 'the Datagrid API key could not be read';
  if (server instanceof RotatorError && server.code === 'DATAGRID_AUTH_FAILED')
    return 'the Datagrid API key was rejected (401/403)';
  return undefined;
}

/**
 * rotateTarget turns every expected failure into a result; this catches the unexpected (a bug, a state store outage)
 * so one target cannot sink the run's other results and events, and frees the lease it may hold. Such a failure is
 * the rotator's own (`INTERNAL`), never reported as Datagrid's.
 */
async function rotateSafely(ctx: RunContext, input: TargetInputs): Promise<RotationResult> {
  const started = ctx.clock.now();
  try {
    return await rotateTarget(ctx, input);
  } catch (error) {
    ctx.log.error('unexpected error while rotating a target', {
      target: input.target.key,
      cause: describeCause(error),
    });
    await ctx.state.releaseLease(statePkFor(input.target), ctx.lease).catch(() => undefined);
    return targetResult(input.target, {
      durationMs: ctx.clock.now() - started,
      error: { code: 'INTERNAL', message: `unexpected error: ${describeCause(error)}` },
    });
  }
}

export async function runRotation(
  ctx: RunContext,
  config: RotatorConfig,
  targets: readonly ResolvedTarget[],
  inputs: RunInputs,
): Promise<RotationResult[]> {
  const { clock, log } = ctx;
  const results: RotationResult[] = new Array<RotationResult>(targets.length);
  const haltAfter = config.concurrency.haltAfterFailures;
  let finished = 0;
  let haltedBy: string | undefined;
  const halting =
    ctx.haltScope === 'run'
      ? sharedHaltCounter(ctx.state, ctx.runId, haltAfter, { log, nowMs: clock.now() })
      : localHaltCounter(haltAfter);

  const skipped = (target: ResolvedTarget, code: 'HALTED' | 'DEADLINE', message: string): RotationResult =>
    targetResult(target, { outcome: 'skipped', error: { code, message } });

  /** Halting looks at outcomes as they are known: at the end of a target's Datagrid turn, else when it finishes. */
  const countOutcome = async (result: RotationResult) => {
    if (result.error?.code === 'DATAGRID_AUTH_FAILED' && haltedBy === undefined) {
      haltedBy = 'the Datagrid API key was rejected (401/403)';
    }
    if (result.outcome === 'skipped') return;
    const reason = await halting.count(result.outcome === 'failed');
    haltedBy ??= reason;
  };

  const noteFinished = async (target: ResolvedTarget, result: RotationResult, counted: boolean) => {
    finished += 1;
    ctx.onProgress?.(result, finished, targets.length);
    log.info('target finished', {
      target: target.key,
      outcome: result.outcome,
      code: result.error?.code,
      durationMs: result.durationMs,
      progress: `${finished}/${targets.length}`,
    });
    if (!counted) await countOutcome(result);
  };

  /** Why no PATCH may start now, if so. */
  const refusal = (target: ResolvedTarget): { code: 'HALTED' | 'DEADLINE'; message: string } | undefined => {
    if (haltedBy !== undefined) return { code: 'HALTED', message: `run halted: ${haltedBy}` };
    if (clock.now() > latestStartOf(ctx, target)) {
      return {
        code: 'DEADLINE',
        message: DEADLINE_MESSAGE,
      };
    }
    return undefined;
  };

  const perTeamspace = new Map<string | undefined, ReturnType<typeof pLimit>>();
  const global = pLimit(config.concurrency.global);
  const teamspaceLimit = (ts: string | undefined) => {
    let limit = perTeamspace.get(ts);
    if (!limit) perTeamspace.set(ts, (limit = pLimit(config.concurrency.perTeamspace)));
    return limit;
  };

  // The per-teamspace limit holds a target from start to finish; the global limit only its Datagrid turn, so the
  // DynamoDB lease and record of one target overlap the Datagrid work of others.
  await Promise.all(
    targets.map((target, index) =>
      teamspaceLimit(target.teamspaceId)(async () => {
        let result: RotationResult;
        let counted = false;
        const input = inputs.of(target);
        const systemic = systemicFailure(input.server);
        const refused = refusal(target);
        if (systemic !== undefined && haltedBy === undefined) {
          haltedBy = systemic;
          result = await rotateSafely(ctx, input);
        } else if (refused !== undefined) {
          result = skipped(target, refused.code, refused.message);
        } else {
          const datagridTurn: DatagridTurn = (work) =>
            global(async () => {
              // Checked again here: the run may have halted (in another shard too), or time run short, while this
              // target waited its turn.
              haltedBy ??= await halting.check();
              const late = refusal(target);
              if (late !== undefined) return { refused: late };
              const changed = await work();
              counted = true;
              await countOutcome(changed.result);
              return changed;
            });
          result = await rotateSafely({ ...ctx, datagridTurn }, input);
        }
        results[index] = result;
        await noteFinished(target, result, counted);
      }),
    ),
  );
  if (haltedBy !== undefined) log.error('run halted', { reason: haltedBy });
  return results;
}
