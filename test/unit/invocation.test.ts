import { describe, expect, it } from 'vitest';
import { RequestError } from '../../lambda/errors.ts';
import { invocationKeyOf, parseInvocation } from '../../lambda/invocation.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:mcp/github-AbCdEf';

describe('parseInvocation', () => {
  it('accepts direct and Scheduler requests', () => {
    expect(parseInvocation({ action: 'rotate', trigger: 'schedule' })).toEqual({
      action: 'rotate',
      trigger: 'schedule',
      force: false,
      dryRun: false,
    });
    expect(parseInvocation({ action: 'audit' })).toEqual({
      action: 'audit',
      trigger: 'manual',
      force: false,
      dryRun: false,
    });
    expect(
      parseInvocation({
        action: 'rotate',
        targets: ['srv_1', 'ts_1/srv_2'],
        force: true,
        dryRun: true,
        reason: 'r',
        requestedBy: 'alice',
      }),
    ).toEqual({
      action: 'rotate',
      trigger: 'manual',
      targets: ['srv_1', 'ts_1/srv_2'],
      force: true,
      dryRun: true,
      reason: 'r',
      requestedBy: 'alice',
    });
  });

  it('an incidentId makes an incident: trigger incident, force implied', () => {
    expect(
      parseInvocation({ action: 'rotate', incidentId: 'INC-7', reason: 'token leaked', trigger: 'manual' }),
    ).toMatchObject({
      trigger: 'incident',
      force: true,
      incidentId: 'INC-7',
      reason: 'token leaked',
    });
  });

  it('accepts "MCP Rotation Requested" events; action defaults to rotate', () => {
    const req = parseInvocation({
      source: 'ops.tooling',
      'detail-type': 'MCP Rotation Requested',
      detail: { incidentId: 'INC-1', targets: ['srv_1'] },
    });
    expect(req).toMatchObject({ action: 'rotate', trigger: 'incident', force: true, targets: ['srv_1'] });
    expect(
      parseInvocation({ source: 'x', 'detail-type': 'MCP Rotation Requested', detail: { action: 'audit' } }).action,
    ).toBe('audit');
  });

  it('accepts the native Secret Label Updated event for AWSCURRENT only', () => {
    const event = (labelUpdated: string) => ({
      source: 'aws.secretsmanager',
      'detail-type': 'Secret Label Updated',
      detail: { name: 'mcp/github', labelUpdated, versionId: 'v2' },
    });
    expect(parseInvocation(event('AWSCURRENT'))).toEqual({
      action: 'rotate',
      trigger: 'secret-changed',
      force: false,
      dryRun: false,
      secretRef: 'mcp/github',
    });
    expect(() => parseInvocation(event('AWSPENDING'))).toThrow(/does not say that a secret's current value changed/);
  });

  it.each([
    ['RotationSucceeded', 'AWS Service Event via CloudTrail', { additionalEventData: { SecretId: ARN } }],
    ['PutSecretValue', 'AWS API Call via CloudTrail', { requestParameters: { secretId: 'mcp/github' } }],
    ['UpdateSecretVersionStage', 'AWS API Call via CloudTrail', { responseElements: { arn: ARN } }],
  ])('accepts the CloudTrail %s record', (eventName, detailType, where) => {
    const req = parseInvocation({
      source: 'aws.secretsmanager',
      'detail-type': detailType,
      detail: { eventName, ...where },
    });
    expect(req.trigger).toBe('secret-changed');
    expect([ARN, 'mcp/github']).toContain(req.secretRef);
  });

  it.each([
    [null, /not a JSON object/],
    ['rotate', /not a JSON object/],
    [{}, /action/],
    [{ action: 'delete' }, /action/],
    [{ action: 'rotate', force: 'yes' }, /force/],
    [{ action: 'rotate', targets: [] }, /targets/],
    [{ action: 'rotate', extra: 1 }, /extra/],
    [{ action: 'rotate', trigger: 'incident' }, /trigger/],
    [
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
      /Rejected EventBridge event "EC2 Instance/,
    ],
    [{ source: 'x', 'detail-type': 'MCP Rotation Requested', detail: { targets: 'srv_1' } }, /detail\.targets/],
    [
      {
        source: 'aws.secretsmanager',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventName: 'GetSecretValue' },
      },
      /current value/,
    ],
    [
      {
        source: 'aws.secretsmanager',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventName: 'PutSecretValue' },
      },
      /current value/,
    ],
  ])('rejects %j with a message saying what was expected', (event, message) => {
    let error: unknown;
    try {
      parseInvocation(event);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequestError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/expected/);
  });

  describe('hostile input is not echoed at length', () => {
    const HUGE = 'x'.repeat(5 * 1024 * 1024);
    const rejection = (event: unknown): RequestError => {
      try {
        parseInvocation(event);
      } catch (error) {
        expect(error).toBeInstanceOf(RequestError);
        return error as RequestError;
      }
      throw new Error('expected a RequestError');
    };

    it.each([
      ['a 5 MB detail-type', { source: 'x', 'detail-type': HUGE, detail: {} }],
      ['a 5 MB source', { source: HUGE, 'detail-type': 'y', detail: {} }],
      ['a 5 MB aws.secretsmanager detail-type', { source: 'aws.secretsmanager', 'detail-type': HUGE }],
      ['a 5 MB unknown key', { action: 'rotate', [HUGE]: 1 }],
      ['a 5 MB unknown detail key', { source: 'x', 'detail-type': 'MCP Rotation Requested', detail: { [HUGE]: 1 } }],
      ['1000 invalid targets', { action: 'rotate', targets: Array.from({ length: 1000 }, () => 'a#'.repeat(500)) }],
    ])('%s gives a short message that says what was wrong', (_, event) => {
      const error = rejection(event);
      expect(error.message.length).toBeLessThan(2_000);
      expect(error.stack?.length ?? 0).toBeLessThan(4_000);
    });

    it('names an input too long to show by its length', () => {
      expect(rejection({ source: 'x', 'detail-type': HUGE, detail: {} }).message).toContain(
        `Rejected EventBridge event (a string of ${HUGE.length} characters) from "x"`,
      );
      expect(rejection({ action: 'rotate', targets: Array.from({ length: 7 }, () => 'a#b') }).message).toContain(
        '; and 2 more problems',
      );
    });

    it('ignores a secret-change event naming a secret longer than any Secrets Manager id', () => {
      const event = {
        source: 'aws.secretsmanager',
        'detail-type': 'Secret Label Updated',
        detail: { labelUpdated: 'AWSCURRENT', name: HUGE },
      };
      expect(rejection(event).message.length).toBeLessThan(2_000);
    });
  });

  it.each(['ts#1/srv_1', 'srv#1', 'ts/srv/extra', '/srv_1', 'ts_1/'])(
    'rejects the targets entry %j: ids never contain "/" or "#"',
    (entry) => {
      expect(() => parseInvocation({ action: 'rotate', targets: [entry] })).toThrow(
        /targets\.0: expected "serverId" or "teamspaceId\/serverId" \(ids never contain "\/" or "#"\)/,
      );
    },
  );
});

describe('invocationKeyOf (the lease owner a Lambda retry keeps)', () => {
  const event = { id: 'e1d2c3b4-0000-4000-8000-000000000001', source: 'aws.secretsmanager', 'detail-type': 'x' };

  it("is the EventBridge event's id, whatever the request id of the attempt", () => {
    expect(invocationKeyOf(event, 'req-1')).toBe('event:e1d2c3b4-0000-4000-8000-000000000001');
    expect(invocationKeyOf(event, 'req-2')).toBe(invocationKeyOf(event, 'req-1'));
  });

  it('is the Lambda request id for a direct request (a schedule), which has no event id', () => {
    expect(invocationKeyOf({ action: 'rotate', trigger: 'schedule' }, 'req-1')).toBe('request:req-1');
    // A direct request's own `id` field is not an EventBridge id.
    expect(invocationKeyOf({ action: 'rotate', id: 'mine' }, 'req-1')).toBe('request:req-1');
  });

  it('is undefined without either (a local run), and ignores ids no AWS service would send', () => {
    expect(invocationKeyOf({ action: 'rotate' }, undefined)).toBeUndefined();
    expect(invocationKeyOf({ ...event, id: 'x'.repeat(129) }, 'req-1')).toBe('request:req-1');
    expect(invocationKeyOf({ ...event, id: 42 }, undefined)).toBeUndefined();
  });
});
