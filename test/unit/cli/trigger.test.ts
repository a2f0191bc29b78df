/** `trigger --state-machine [--wait]`: the execution started and followed through the Step Functions API (mocked). */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { executionName } from '../../../cli/execution.ts';
import { runCli } from '../../../cli/main.ts';

const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:RotatorStateMachine';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:RotatorStateMachine:INC-7-20261206-101500000';
const TOTALS = {
  runId: 'run-1',
  action: 'rotate',
  trigger: 'incident',
  dryRun: false,
  incidentId: 'INC-7',
  startedAt: '2026-12-06T10:15:00.000Z',
  finishedAt: '2026-12-06T10:21:00.000Z',
  counts: { rotated: 58, unchanged: 1, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 },
  shards: 2,
};

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['node', 'cli', 'trigger', '--incident', 'INC-7', '--reason', 'leaked', ...args], {
    out: (text) => out.push(text),
    err: (line) => err.push(line),
  });
  return { code, out: out.join(''), err: err.join('\n') };
}

beforeEach(() => {
  sfn.reset();
  events.reset();
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('STATE_MACHINE_ARN', undefined);
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
});
afterEach(() => vi.unstubAllEnvs());

describe('trigger --state-machine', () => {
  it('starts an execution with the direct request as its input, and puts nothing on the bus', async () => {
    const run = await cli('--state-machine', MACHINE, '--requested-by', 'oncall-alice');
    expect(run).toMatchObject({ code: 0, out: `Execution: ${EXECUTION}` });
    const [start] = sfn.commandCalls(StartExecutionCommand);
    expect(start!.args[0].input.stateMachineArn).toBe(MACHINE);
    expect(start!.args[0].input.name).toMatch(/^INC-7-\d{8}-\d{9}$/);
    expect(JSON.parse(start!.args[0].input.input!)).toEqual({
      action: 'rotate',
      incidentId: 'INC-7',
      reason: 'leaked',
      requestedBy: 'oncall-alice',
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toEqual([]);
    expect(events.commandCalls(PutEventsCommand)).toEqual([]);
  });

  it('takes the ARN from STATE_MACHINE_ARN', async () => {
    vi.stubEnv('STATE_MACHINE_ARN', MACHINE);
    expect((await cli()).code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(MACHINE);
  });

  it('--wait polls until the execution ended and prints the run counts', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify(TOTALS) } as never);
    const run = await cli('--state-machine', MACHINE, '--wait', '--poll-interval', '0.01');
    expect(run.code).toBe(0);
    expect(run.out).toBe('Run run-1 SUCCEEDED: 58 rotated, 1 unchanged, 0 failed, 0 skipped over 2 shard(s)');
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION });
  });

  it('--wait exits 1 with the task error and its message when the execution failed', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      error: 'RunHalted',
      cause: JSON.stringify({ errorType: 'RunHalted', errorMessage: 'Run run-1: halted after systemic failures' }),
    } as never);
    const run = await cli('--state-machine', MACHINE, '--wait', '--poll-interval', '0.01');
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain('error: execution FAILED: RunHalted: Run run-1: halted after systemic failures');
  });

  it('--wait --json prints the execution end as JSON; a timed-out execution exits 1', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT' } as never);
    const run = await cli('--state-machine', MACHINE, '--wait', '--poll-interval', '0.01', '--json');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out)).toEqual({ executionArn: EXECUTION, status: 'TIMED_OUT' });
  });

  it.each([
    [['--wait'], /--wait needs --state-machine <arn>/],
    [
      ['--state-machine', 'arn:aws:lambda:us-east-1:123456789012:function:rotator'],
      /--state-machine: .* is not a state machine ARN/,
    ],
    [
      ['--state-machine', MACHINE, '--wait', '--poll-interval', '0'],
      /--poll-interval <seconds>.*positive number of seconds/,
    ],
  ])('refuses %j before calling AWS (exit 2)', async (args, message) => {
    const run = await cli(...args);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    expect(sfn.calls()).toEqual([]);
  });
});

describe('executionName', () => {
  it('is the incident id, reduced to the characters Step Functions allows, and the start time, within 80', () => {
    const at = new Date('2026-12-06T10:15:00.123Z');
    expect(executionName('INC 42/prod', at)).toBe('INC-42-prod-20261206-101500123');
    expect(executionName('x'.repeat(200), at)).toHaveLength(80);
  });
});
