/**
 * `trigger --state-machine`: a rotation run as an execution of the deployment's state machine (orchestration
 * `stateMachine`), started directly, and with `--wait` followed to its end. The execution's output is the run's
 * totals (counts over every shard, no results), the same detail as its `MCP Rotation Run Completed` event.
 */
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ExecutionStatus, SFNClient } from '@aws-sdk/client-sfn';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunTotals } from '../lambda/fleet-steps.ts';

/** Step Functions execution names: at most 80 characters of letters, digits, `-` and `_`. */
const NAME_MAX = 80;

/** A name an operator finds in the console: the incident id and the start time. */
export function executionName(incidentId: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '').replace('T', '-').replace('Z', '');
  const incident = incidentId.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, NAME_MAX - stamp.length - 1);
  return `${incident}-${stamp}`;
}

export async function startExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  input: Record<string, unknown>,
  name: string,
): Promise<string> {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  if (executionArn === undefined) throw new Error(`Step Functions returned no execution ARN for ${stateMachineArn}`);
  return executionArn;
}

export interface ExecutionEnd {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  /** The run's totals, when the execution succeeded. */
  totals?: RunTotals;
  /** Why it failed: the task's error name (ApiKeyRejected, RunHalted, RotationFailed, ...) and its cause. */
  error?: string;
  cause?: string;
}

/** Polls DescribeExecution every `intervalMs` until the execution is no longer RUNNING (or PENDING_REDRIVE). */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
  intervalMs: number,
  onPoll?: (status: string) => void,
): Promise<ExecutionEnd> {
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = execution.status;
    onPoll?.(status ?? 'UNKNOWN');
    if (status !== undefined && status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      return {
        status,
        ...(execution.output !== undefined &&
          status === 'SUCCEEDED' && {
            totals: JSON.parse(execution.output) as RunTotals,
          }),
        ...(execution.error !== undefined && { error: execution.error }),
        ...(execution.cause !== undefined && { cause: causeMessage(execution.cause) }),
      };
    }
    await sleep(intervalMs);
  }
}

/** A Lambda task's cause is its error as JSON; the message is what an operator needs. */
function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: Step Functions' own text (a timeout, an abort).
  }
  return cause;
}
