/**
 * `orchestration`: the function alone, or the Standard state machine that the schedules and rules start, with the
 * rotator's function as its only task, its alarms, logs and least-privilege role.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ORCHESTRATION_MAX_TARGETS, chooseOrchestration } from '../../infra/orchestration.ts';
import { loadConfigFileSync } from '../../lambda/config.ts';
import { fleetConfig } from '../support/fleet-config.ts';
import type { RotatorFixture } from './helpers.ts';
import { McpRotatorStack } from '../../infra/stack.ts';
import {
  FIXTURE_CONFIG,
  SKIP_BUNDLING,
  asArray,
  cdkJsonContext,
  roleStatements,
  rotatorStack,
  writeConfig,
} from './helpers.ts';

describe('the default orchestration', () => {
  it(`is the function up to ${FUNCTION_ORCHESTRATION_MAX_TARGETS} targets, the state machine past it; an explicit choice wins`, () => {
    const config = (teamspaces: number) =>
      loadConfigFileSync(writeConfig(fleetConfig({ teamspaces, serversPerTeamspace: 25 })));
    expect(FUNCTION_ORCHESTRATION_MAX_TARGETS).toBe(500);
    expect(chooseOrchestration(config(20), undefined)).toBe('function');
    expect(chooseOrchestration(config(21), undefined)).toBe('stateMachine');
    expect(chooseOrchestration(config(21), 'function')).toBe('function');
    expect(chooseOrchestration(config(1), 'stateMachine')).toBe('stateMachine');
  });

  it('creates no state machine for the function', () => {
    const { template, rotator } = rotatorStack();
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    expect(rotator.orchestration).toBe('function');
  });
});

describe("orchestration: 'stateMachine'", () => {
  let fx: RotatorFixture;
  const machineId = () => fx.logicalId(fx.rotator.rotationStateMachine!.stateMachine);
  beforeAll(() => {
    fx = rotatorStack({ orchestration: 'stateMachine' });
  });

  it('is a Standard state machine logging every transition without execution data, tracing as the function does', () => {
    fx.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: false },
    });
  });

  it('is what both schedules start, with their input, retry policy and dead-letter queue', () => {
    const schedules = Object.values(fx.template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(2);
    for (const schedule of schedules) {
      expect(schedule.Properties.Target).toMatchObject({
        Arn: { Ref: machineId() },
        RetryPolicy: { MaximumRetryAttempts: 4 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.triggerDeadLetterQueue), 'Arn'] } },
      });
    }
    const schedulerRole = roleStatements(fx.template, fx.logicalId(fx.rotator.schedulerRole));
    expect(schedulerRole.filter((s) => asArray(s.Action).includes('states:StartExecution'))).toEqual([
      expect.objectContaining({ Resource: { Ref: machineId() } }),
    ]);
    expect(schedulerRole.flatMap((s) => asArray(s.Action))).not.toContain('lambda:InvokeFunction');
  });

  it('is what every rule starts, the event being the execution input; the function has no rule permission', () => {
    const rules = Object.values(fx.template.findResources('AWS::Events::Rule'));
    expect(rules.length).toBeGreaterThanOrEqual(2);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({ Arn: { Ref: machineId() }, RoleArn: expect.anything() }),
      ]);
      expect(rule.Properties.Targets[0].Input).toBeUndefined();
    }
    fx.template.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  it('may invoke only the rotator function', () => {
    const role = fx.rotator.rotationStateMachine!.stateMachine.role;
    const invokes = roleStatements(fx.template, fx.logicalId(role)).filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('lambda:')),
    );
    const fnArn = { 'Fn::GetAtt': [fx.logicalId(fx.rotator.function), 'Arn'] };
    expect(invokes.flatMap((s) => asArray(s.Action))).toEqual(['lambda:InvokeFunction']);
    expect(invokes.flatMap((s) => asArray(s.Resource))).toEqual([fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }]);
  });

  it('runs MaxConcurrency = global / perTeamspace shards, with concurrency reserved for them and one more', () => {
    const definition = JSON.stringify(
      fx.template.findResources('AWS::StepFunctions::StateMachine')[machineId()]?.Properties.DefinitionString,
    );
    // The fixture's defaults: global 8, perTeamspace 4.
    expect(definition).toContain('\\"MaxConcurrency\\":2');
    fx.template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 3 });
  });

  it('alarms on failed and timed-out executions, notifying the alarm topic', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      fx.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId() } }],
        Threshold: 1,
        AlarmActions: [{ Ref: fx.logicalId(fx.rotator.alarmTopic) }],
      });
    }
  });
});

describe('the stack outputs', () => {
  const outputs = (orchestration: 'function' | 'stateMachine') => {
    const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    const stack = new McpRotatorStack(app, 'OutputsStack', { rotator: { configFile: FIXTURE_CONFIG, orchestration } });
    return { stack, outputs: Template.fromStack(stack).findOutputs('*') };
  };

  it("name the state machine's ARN for trigger --state-machine when there is one", () => {
    const { stack, outputs: found } = outputs('stateMachine');
    const machine = stack.rotator.rotationStateMachine!.stateMachine;
    expect(found.StateMachineArn?.Value).toEqual({ Ref: stack.getLogicalId(machine.node.defaultChild as never) });
    expect(Object.keys(outputs('function').outputs)).not.toContain('StateMachineArn');
  });
});
