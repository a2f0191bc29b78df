/**
 * Which orchestration runs a fleet. One invocation works through its targets `concurrency.global` at a time, and it
 * may start a target only while that target's worst case (lambda/engine/budget.ts: with the default timeouts 381 s,
 * a PATCH and a verification, then a rollback and a second one, every request with all its retries) still fits
 * before Lambda's 15 minutes end: with the defaults it starts targets during the first 514 s (900 s less the 5 s
 * reserve and the 381 s). Past that, a run ends its last targets as `DEADLINE`. The state machine has no such cap.
 *
 * The default threshold, 500 targets, comes from the fleet benchmark (npm run bench:fleet, docs/orchestration.md):
 * one invocation at concurrency 8 rotated 19.8 targets/s with 150 ms PATCHes on a loaded 2-core machine, about
 * 0.4 s a target, so the rotator's own work and round trips add at most about 0.25 s to a target's re-sync time.
 * One invocation then finishes about `global × 514 s ÷ (1.1 × re-sync + 0.25 s)` targets (1.1: verification
 * polls a little after the re-sync ends): at the default concurrency of 8 and 5 s a re-sync (a real fleet's
 * upstream handshake) about 715; 500 leave 30% of the window to retries, rate limiting and slower re-syncs. Fleets
 * with sub-second re-syncs fit thousands of targets in one invocation (about 10,000 at the benchmark's 150 ms) and
 * may choose `function` explicitly; slower re-syncs (30 s: about 120 targets) call for `stateMachine`.
 */
import type { RotatorConfig } from '../lambda/types/config.ts';

export type Orchestration = 'function' | 'stateMachine';

export const FUNCTION_ORCHESTRATION_MAX_TARGETS = 500;

export function chooseOrchestration(config: RotatorConfig, chosen: Orchestration | undefined): Orchestration {
  if (chosen !== undefined) return chosen;
  return config.targets.length <= FUNCTION_ORCHESTRATION_MAX_TARGETS ? 'function' : 'stateMachine';
}
