/**
 * The operator CLI as operators run it: `node cli/main.ts ...` in its own process, with AWS from the environment
 * (moto) against the Datagrid emulator and real MCP servers. One stack for the file; the tests run in order and
 * build on each other's state (plan, rotate, plan again, audit), as an operator's session would.
 */
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_SOURCE, DETAIL_TYPE } from '../../lambda/constants.ts';
import type { AuditResult, RotationResult, RunSummary } from '../../lambda/types/results.ts';
import { startMoto, type RunningMoto } from '../../local/moto.ts';
import { LocalStack, type ReceivedEvent, type StackServer } from '../../local/stack.ts';
import { canary, leakedCanaries } from './support/canaries.ts';
import { runCli, type CliRun } from './support/cli-process.ts';

let moto: RunningMoto;
let stack: LocalStack;
let alpha: StackServer;
let beta: StackServer;
let gamma: StackServer;
/** alpha and beta (healthy); the default config file in the stack's directory. */
let goodConfig: string;
/** alpha, beta and gamma, whose MCP server refuses the credential in its secret. */
let withFailing: string;

/** Runs the CLI in the stack's directory with AWS from the environment; every output is checked for leaks. */
const cli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => runCli(stack, args, env);

/** Every event the bus delivered since the last call, checked for leaks like the CLI's output. */
async function drainEvents(): Promise<ReceivedEvent[]> {
  const events = await stack.receiveEvents();
  for (const event of events) {
    expect(leakedCanaries(event.raw), `no secret in event ${event['detail-type']}`).toEqual([]);
  }
  return events;
}

/** The options every engine command needs in this stack. */
const aws = () => ['--table', stack.tableName, '--bus', stack.busName];

const key = (server: StackServer) => `${server.teamspaceId}/${server.serverId}`;

/** A minimal RFC 4180 reader: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (quoted || (c !== ',' && c !== '\n' && c !== '\r')) {
      field += c;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      rows.push([...row, field]);
      row = [];
      field = '';
    }
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

beforeAll(async () => {
  moto = await startMoto();
  stack = await LocalStack.start({ moto, apiKey: canary('dg-api-key'), name: `cli-${process.pid}` });
  [alpha, beta, gamma] = await Promise.all([
    stack.addServer({ name: 'alpha', teamspaceId: 'ts_eng', token: canary('alpha-v1'), initialToken: canary('a0') }),
    stack.addServer({ name: 'beta', teamspaceId: 'ts_eng', tools: 4, token: canary('beta-v1') }),
    stack.addServer({ name: 'gamma', teamspaceId: 'ts_ops', token: canary('gamma-v1'), initialToken: canary('g0') }),
  ]);
  // gamma's MCP server still only accepts its old token: the credential in Secrets Manager fails the re-sync.
  gamma.mcp.setTokens([gamma.mcp.tokens.find((t) => t.includes('g0'))!]);
  goodConfig = await stack.writeConfig({ targets: [alpha.target, beta.target] });
  withFailing = await stack.writeConfig(
    { targets: [alpha.target, beta.target, gamma.target], concurrency: { haltAfterFailures: 0 } },
    join(stack.workDir, 'with-failing.json'),
  );
  // Whatever earlier setup put on the queue is not the CLI's doing.
  await stack.receiveEvents();
});

afterAll(async () => {
  await stack?.close();
  await moto?.close();
});

describe('validate', () => {
  it('accepts a good file offline and says how many targets it has', async () => {
    const run = await cli(['validate'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect(run).toMatchObject({ code: 0, stdout: `OK: 2 targets in ${goodConfig}\n` });
    const json = await cli(['validate', '--config', withFailing, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      valid: true,
      file: withFailing,
      targets: [key(alpha), key(beta), key(gamma)],
      problems: [],
    });
  });

  it('prints each problem with its path and exits 2', async () => {
    const bad = join(stack.workDir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        datagrid: { apiKeySecretId: 'k' },
        targets: [{ serverId: 'srv_1' }, { serverId: 'srv_2', secretId: 's', headerTemplate: 'Bearer' }],
      }),
    );
    const run = await cli(['validate', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('targets[0].secretId: required: expected a string');
    expect(run.stdout).toContain('targets[1].headerTemplate: must contain {{secret}} exactly once');
    const json = await cli(['validate', '--config', bad, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, file: bad });
    expect((JSON.parse(json.stdout) as { problems: string[] }).problems).toHaveLength(2);

    const missing = await cli(['validate', '--config', 'nope.json']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('file not found');
  });

  it('rejects configuration that widens access: a wildcard secretId, user info in baseUrl, "#" in an id', async () => {
    const widening = join(stack.workDir, 'widening.json');
    await writeFile(
      widening,
      JSON.stringify({
        datagrid: { apiKeySecretId: 'k', baseUrl: 'https://operator:hunter22@api.datagrid.com/v1' },
        targets: [{ serverId: 'srv#1', secretId: 'mcp/*' }],
      }),
    );
    const run = await cli(['validate', '--config', widening]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('datagrid.baseUrl: must not contain user info (user:password@)');
    expect(run.stdout).toContain('targets[0].serverId: must not contain "/" or "#"');
    expect(run.stdout).toContain('targets[0].secretId: expected a Secrets Manager secret name');
    expect(run.stdout).not.toContain('hunter22');
  });
});

describe('plan, rotate, audit', () => {
  it('plan says every target would rotate, and why, without sending anything', async () => {
    stack.datagrid.requestLog.length = 0;
    const run = await cli(['plan', ...aws()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${key(alpha)}.*would rotate.*never rotated by this rotator`));
    expect(run.stdout).toMatch(new RegExp(`${key(beta)}.*would rotate.*never rotated by this rotator`));
    expect(run.stdout).toContain('would rotate 2, unchanged 0, would fail 0, skipped 0');
    expect(run.stderr).toMatch(/^\[1\/2\] would rotate +ts_eng\/\S+ +active +never rotated by this rotator$/m);
    expect(stack.datagrid.requestLog.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(await stack.stateItems()).toEqual([]);
    await drainEvents();
  });

  it('rotate prints a progress line per target and the summary table, and emits the Lambda events', async () => {
    const run = await cli(['rotate', ...aws(), '--requested-by', 'oncall-alice']);
    expect(run.code).toBe(0);
    const progress = run.stderr.split('\n').filter((line) => line.startsWith('['));
    expect(progress).toHaveLength(2);
    for (const line of progress) {
      expect(line).toMatch(/^\[[12]\/2\] rotated +ts_eng\/\S+ +active +tools (3 -> 3|4 -> 4) +\d+ ms$/);
    }
    expect(progress.map((line) => line.slice(0, 5)).sort()).toEqual(['[1/2]', '[2/2]']);
    expect(run.stdout).toMatch(new RegExp(`│ ${key(alpha)} +│ alpha +│ rotated +│ active +│ 3 -> 3 +│ no `));
    expect(run.stdout).toMatch(/rotated 2, unchanged 0, failed 0, skipped 0 \(run [0-9a-f-]{36}, manual\)/);
    expect(stack.authorizationOf(alpha)).toBe(`Bearer ${alpha.mcp.tokens.find((t) => t.includes('alpha-v1'))}`);
    // The same state the Lambda would leave: the next scheduled run sees these versions as applied.
    const state = await stack.stateItems();
    expect(state.map((item) => item.appliedVersionId).sort()).toEqual(
      [alpha.initialVersionId, beta.initialVersionId].sort(),
    );

    const events = await drainEvents();
    const types = events.map((e) => e['detail-type']).sort();
    expect(types).toEqual([DETAIL_TYPE.rotationResult, DETAIL_TYPE.rotationResult, DETAIL_TYPE.runCompleted]);
    const completed = events.find((e) => e['detail-type'] === DETAIL_TYPE.runCompleted)!;
    expect(completed.detail).toMatchObject({ trigger: 'manual', requestedBy: 'oncall-alice', dryRun: false });
    expect(completed.source).toBe(stack.eventSource);
  });

  it('plan after the rotation: unchanged; --force: would rotate (forced)', async () => {
    const run = await cli(['plan', ...aws(), '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    expect(summary).toMatchObject({ dryRun: true, counts: { unchanged: 2 } });
    const forced = await cli(['plan', ...aws(), '--force', '--targets', alpha.serverId]);
    expect(forced.stdout).toMatch(new RegExp(`${key(alpha)}.*would rotate.*forced`));
    expect(forced.stdout).not.toContain(key(beta));
    await drainEvents();
  });

  it('a failing target: its line says why, the JSON summary parses, exit 1', async () => {
    // --verbose: the engine's log lines too, where a library error could echo a value.
    const run = await cli(['rotate', ...aws(), '--config', withFailing, '--json', '--verbose']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const byServer = new Map((summary.results as RotationResult[]).map((r) => [r.serverId, r]));
    expect(byServer.get(gamma.serverId)).toMatchObject({ outcome: 'failed', error: { code: 'VERIFY_UNHEALTHY' } });
    expect(byServer.get(alpha.serverId)?.outcome).toBe('unchanged');
    expect(run.stderr).toMatch(new RegExp(`^\\[[123]/3\\] failed +${key(gamma)} +error .*VERIFY_UNHEALTHY: `, 'm'));
    await drainEvents();
  });

  it('an incident rotation is forced (both targets were unchanged) and recorded with its id and reason', async () => {
    const run = await cli([
      'rotate',
      ...aws(),
      '--json',
      '--targets',
      `${key(alpha)},${beta.serverId}`,
      '--incident',
      'INC-7',
      '--reason',
      'token leaked in a log',
    ]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    expect(summary).toMatchObject({
      trigger: 'incident',
      incidentId: 'INC-7',
      reason: 'token leaked in a log',
      counts: { rotated: 2 },
    });
    const events = await drainEvents();
    const results = events.filter((e) => e['detail-type'] === DETAIL_TYPE.rotationResult);
    expect(results).toHaveLength(2);
    for (const e of results) expect(e.detail).toMatchObject({ trigger: 'incident', incidentId: 'INC-7' });
  });

  it('audit in table, json, csv and markdown', async () => {
    const table = await cli(['audit', ...aws()]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`│ ${key(alpha)} +│ alpha +│ yes +│ active +│ 3 `));
    expect(table.stdout).toContain('compliant 2, noncompliant 0');
    expect(table.stderr).toMatch(/^\[1\/2\] compliant +ts_eng\/\S+ +active +tools \d +age 0 d$/m);

    const json = await cli(['audit', ...aws(), '--format', 'json']);
    const summary = JSON.parse(json.stdout) as RunSummary;
    expect(summary).toMatchObject({ action: 'audit', counts: { compliant: 2, noncompliant: 0 } });

    const csv = await cli(['audit', ...aws(), '--format', 'csv']);
    const rows = parseCsv(csv.stdout);
    expect(rows[0]).toEqual([
      'target',
      'name',
      'compliant',
      'status',
      'tools',
      'applied version',
      'current version',
      'last rotated',
      'age (days)',
      'findings',
    ]);
    expect(rows.slice(1).map((r) => [r[0], r[2], r[4]])).toEqual([
      [key(alpha), 'yes', '3'],
      [key(beta), 'yes', '4'],
    ]);

    const md = await cli(['audit', ...aws(), '--format', 'markdown']);
    const lines = md.stdout.split('\n');
    expect(lines[0]).toBe('# Datagrid MCP credential audit');
    const header = lines.findIndex((l) => l.startsWith('| target'));
    expect(lines[header]).toMatch(/^\| target +\| name +\| compliant +\|/);
    expect(lines[header + 1]).toMatch(/^\| -+ \| -+ \| -+ \|/);
    expect(lines[header + 2]).toContain(`| ${key(alpha)} `);
    await drainEvents();
  });

  it('audit of a non-compliant target exits 1 and names the findings', async () => {
    const run = await cli(['audit', ...aws(), '--config', withFailing, '--json']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const gammaAudit = (summary.results as AuditResult[]).find((r) => r.serverId === gamma.serverId)!;
    expect(gammaAudit.compliant).toBe(false);
    expect(gammaAudit.findings.map((f) => f.code)).toContain('NEVER_ROTATED');
    await drainEvents();
  });
});

describe('trigger', () => {
  // The stack's queue hears the rotator's own source only; requests carry a request source: hear those too.
  beforeAll(async () => {
    const { Attributes } = await stack.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const rule = `${stack.busName}-requests-to-queue`;
    await stack.aws.events.send(
      new PutRuleCommand({
        Name: rule,
        EventBusName: stack.busName,
        EventPattern: JSON.stringify({ source: [DEFAULT_REQUEST_SOURCE, 'acme.oncall'] }),
      }),
    );
    await stack.aws.events.send(
      new PutTargetsCommand({
        Rule: rule,
        EventBusName: stack.busName,
        Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }],
      }),
    );
  });

  it('puts an MCP Rotation Requested event on the bus and prints its EventId', async () => {
    const run = await cli(
      [
        'trigger',
        '--bus',
        stack.busName,
        '--incident',
        'INC-9',
        '--reason',
        'key in a screenshot',
        '--targets',
        alpha.serverId,
        '--requested-by',
        'oncall-bob',
        '--dry-run',
        '--json',
      ],
      // No STATE_TABLE_NAME needed: nothing runs locally.
    );
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { eventId: string };
    const events = await drainEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: printed.eventId,
      // The source the deployed rule accepts by default (requestSources), not the rotator's own result source.
      source: 'datagrid.mcp-rotator.requests',
      'detail-type': DETAIL_TYPE.rotationRequested,
      detail: {
        action: 'rotate',
        incidentId: 'INC-9',
        reason: 'key in a screenshot',
        targets: [alpha.serverId],
        requestedBy: 'oncall-bob',
        dryRun: true,
      },
    });

    const text = await cli([
      'trigger',
      ...['--bus', stack.busName, '--incident', 'INC-9', '--reason', 'again', '--source', 'acme.oncall'],
    ]);
    expect(text.stdout).toMatch(/^EventId: \S+ \(bus /);
    const again = await drainEvents();
    expect(again).toHaveLength(1);
    expect(again[0]?.source).toBe('acme.oncall');
  });

  it('refuses unknown targets before putting anything on the bus', async () => {
    const run = await cli(['trigger', '--bus', stack.busName, '--incident', 'I', '--reason', 'r', '--targets', 'nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: Invalid targets: "nope" is not a configured target. ' +
        'Expected entries "serverId" or "teamspaceId/serverId".\n',
    );
    expect(await drainEvents()).toEqual([]);
  });
});

describe('usage errors exit 2 with one line on stderr', () => {
  it.each([
    [['rotate'], /^error: no state table: pass --table <name> or set STATE_TABLE_NAME\n$/],
    [['rotate', '--table', 't', '--bogus'], /^error: unknown option '--bogus'\n/],
    [['rotate', '--table', 't', '--incident', 'INC-1'], /^error: --incident needs --reason/],
    [['trigger', '--reason', 'r'], /^error: required option '--incident <id>' not specified\n$/],
    [['audit', '--table', 't', '--format', 'xml'], /^error: option '--format <format>' argument 'xml' is invalid/],
    [['rotate', '--table', 't', '--targets', 'srv_nope'], /^error: Invalid targets: "srv_nope" is not a configured/],
    [
      ['plan', '--table', 't', '--config', 'nope.json'],
      /^error: Invalid rotation config \S+nope\.json: file not found\n$/,
    ],
  ])('%j', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
