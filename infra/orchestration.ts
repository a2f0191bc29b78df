/**
 * Which orchestration runs a fleet. One invocation works through its targets `concurrency.global` at a time within
 * Lambda's 15 minutes; past that, a run ends its last targets as `DEADLINE`. The state machine has no such cap.
 *
 * The default threshold, 1,000 targets, is estimated from the benchmark (npm run bench): 600 targets with
 * sub-second re-syncs take 12-26 s at concurrency 8, so the fixed cost per target is small and the re-sync time
 * dominates. At 5 s a re-sync (a real fleet's upstream handshake) 1,000 targets are 125 waves of about 5.3 s:
 * about 660 s, inside the 840 s a 15-minute invocation leaves after its overhead. Slower re-syncs, or fleets
 * close to that size, should choose `stateMachine` explicitly.
 */
import type { RotatorConfig } from '../lambda/types/config.ts';

export type Orchestration = 'function' | 'stateMachine';

export const FUNCTION_ORCHESTRATION_MAX_TARGETS = 1000;

export function chooseOrchestration(config: RotatorConfig, chosen: Orchestration | undefined): Orchestration {
  if (chosen !== undefined) return chosen;
  return config.targets.length <= FUNCTION_ORCHESTRATION_MAX_TARGETS ? 'function' : 'stateMachine';
}
