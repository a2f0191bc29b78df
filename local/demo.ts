/**
 * `npm run demo`: the built Lambda bundle against a local world (moto, the Datagrid emulator, three real MCP
 * servers in two teamspaces), through a scheduled rotation, an upstream token rotation announced by Secrets
 * Manager, an incident and an audit. Each run is one handler process, as in Lambda; its results and the events an
 * EventBridge rule delivered to SQS are printed as tables. No credential is ever printed: the demo checks that.
 */
import { randomBytes } from 'node:crypto';
import type { AuditResult, RotationResult, RunSummary } from '../lambda/types/results.ts';
import { ensureBundle } from './bundle.ts';
import type { Invocation } from './invoke-handler.ts';
import { LocalStack } from './stack.ts';
import type { ReceivedEvent, StackServer } from './stack.ts';
import { formatTable } from './table.ts';

/** Every credential the demo makes, so it can prove none of them reached the output. */
const credentials: string[] = [];
function credential(kind: string): string {
  const value = `${kind}_${randomBytes(12).toString('hex')}`;
  credentials.push(value);
  return value;
}

function heading(text: string): void {
  console.log(`\n=== ${text} ${'='.repeat(Math.max(0, 100 - text.length))}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const bundle = await ensureBundle();
  heading('Starting the local world');
  const stack = await LocalStack.start({
    apiKey: credential('dg_key'),
    name: `demo-${randomBytes(3).toString('hex')}`,
  });
  try {
    await demo(stack, bundle);
  } finally {
    await stack.close();
  }
  console.log(`\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s; everything stopped.`);
}

async function demo(stack: LocalStack, bundle: string): Promise<void> {
  const github = await stack.addServer({
    name: 'github',
    teamspaceId: 'ts_engineering',
    tools: 4,
    token: credential('ghp'),
    initialToken: credential('ghp'),
    jsonKey: 'token',
  });
  const linear = await stack.addServer({
    name: 'linear',
    teamspaceId: 'ts_engineering',
    tools: 6,
    token: credential('lin_api'),
    initialToken: credential('lin_api'),
  });
  const salesforce = await stack.addServer({
    name: 'salesforce',
    teamspaceId: 'ts_sales',
    tools: 3,
    token: credential('sf'),
    initialToken: credential('sf'),
    settings: { minToolCount: 3 },
  });
  const servers = [github, linear, salesforce];
  await stack.writeConfig({
    concurrency: { global: 4, perTeamspace: 2, haltAfterFailures: 3 },
    defaults: { verifyTimeoutSeconds: 30, maxCredentialAgeDays: 60 },
    targets: servers.map((s) => s.target),
  });
  console.log(`moto (Secrets Manager, DynamoDB, EventBridge, SQS)  ${stack.moto.endpoint}`);
  console.log(`Datagrid emulator                                   ${stack.datagrid.url}`);
  for (const s of servers) console.log(`MCP server ${s.name.padEnd(41)}${s.mcp.url}  (${s.mcp.toolCount} tools)`);
  console.log(`state table ${stack.tableName}; events: bus ${stack.busName} -> rule -> SQS queue`);

  const invoke = async (title: string, event: unknown): Promise<void> => {
    heading(title);
    console.log(`event: ${JSON.stringify(event)}`);
    const invocation = await stack.invoke<RunSummary>(event, { bundle });
    const events = await stack.receiveEvents();
    checkNoLeak(invocation, events);
    report(invocation, events, servers);
  };

  await invoke('1. Scheduled rotation (EventBridge Scheduler input)', { action: 'rotate', trigger: 'schedule' });

  // linear issues a new API key and revokes the old one; the new one is stored in Secrets Manager.
  const versionId = await stack.rotateUpstream(linear, credential('lin_api'));
  await invoke('2. Upstream rotation of linear: Secrets Manager "Secret Label Updated" (AWSCURRENT)', {
    source: 'aws.secretsmanager',
    'detail-type': 'Secret Label Updated',
    detail: { name: linear.secretId, labelUpdated: 'AWSCURRENT', versionId },
  });

  // The salesforce token leaked: a new one is issued, and the rotator must not restore the old one.
  await stack.rotateUpstream(salesforce, credential('sf'));
  await invoke('3. Incident rotation of salesforce', {
    action: 'rotate',
    incidentId: 'INC-1024',
    reason: 'token pasted in a public channel',
    targets: [`ts_sales/${salesforce.serverId}`],
    requestedBy: 'oncall@example.com',
  });

  // github's upstream also issued a new token, but nobody rotated it yet: the audit shows the drift.
  await stack.putSecretValue(github.secretId, JSON.stringify({ token: credential('ghp') }));
  await invoke('4. Compliance audit', { action: 'audit' });

  // notion's upstream issued a token the MCP server does not accept (a typo, a wrong scope): pre-flight stops it.
  const notion = await stack.addServer({
    name: 'notion',
    teamspaceId: 'ts_engineering',
    tools: 5,
    token: credential('ntn'),
    settings: { preflight: true },
  });
  await stack.putSecretValue(notion.secretId, credential('ntn'));
  // jira points at a secret of the operator's own and is delivered blue/green; its next credential is rejected.
  const jiraToken = credential('jira');
  const jira = await stack.addServer({
    name: 'jira',
    teamspaceId: 'ts_engineering',
    tools: 2,
    token: jiraToken,
    settings: { delivery: 'secretReference' },
  });
  const own = (await stack.callDatagrid(
    'POST',
    '/secrets',
    { name: 'jira-header', value: `Bearer ${jiraToken}` },
    'ts_engineering',
  )) as { id: string };
  await stack.callDatagrid(
    'PATCH',
    `/organization/mcp-servers/${jira.serverId}`,
    { authorization_secret_id: own.id },
    'ts_engineering',
  );
  await stack.putSecretValue(jira.secretId, credential('jira'));
  servers.push(notion, jira);
  await stack.writeConfig({
    concurrency: { global: 4, perTeamspace: 2, haltAfterFailures: 0 },
    defaults: { verifyTimeoutSeconds: 30, maxCredentialAgeDays: 60 },
    targets: servers.map((s) => s.target),
  });

  const writesBefore = datagridWrites(stack);
  await invoke('5. Pre-flight stops a credential the MCP server rejects (Datagrid untouched)', {
    action: 'rotate',
    targets: [`ts_engineering/${notion.serverId}`],
  });
  console.log(`Datagrid writes during this run: ${datagridWrites(stack) - writesBefore}`);

  await invoke('6. Blue/green rotation of jira fails and is rolled back by reference (a first rotation)', {
    action: 'rotate',
    targets: [`ts_engineering/${jira.serverId}`],
  });
  const now = stack.datagrid.servers.get(jira.serverId)!.server.authorization_secret_id;
  console.log(`jira references ${now === own.id ? "the operator's own secret again" : `secret ${now}`} (${own.id})`);

  console.log(
    `\nLeak check: none of the ${credentials.length} credentials used appeared in any log line, result or event.`,
  );
}

/** Requests that change something at Datagrid (anything but a GET). */
function datagridWrites(stack: LocalStack): number {
  return stack.datagrid.requestLog.filter((r) => r.method !== 'GET').length;
}

function report(invocation: Invocation<RunSummary>, events: ReceivedEvent[], servers: StackServer[]): void {
  const nameOf = (serverId: unknown) => servers.find((s) => s.serverId === serverId)?.name ?? String(serverId);
  const { summary } = invocation;
  console.log(
    `handler: exit ${invocation.exitCode} in ${invocation.durationMs} ms (process start included)` +
      (invocation.error ? `, threw ${invocation.error.name}: ${invocation.error.message}` : ''),
  );
  if (!summary) {
    // A failed rotation makes the handler throw: its results are in the events.
    const rotations = events
      .filter((e) => e['detail-type'] === 'MCP Credential Rotation Result')
      .map((e) => e.detail as unknown as RotationResult);
    if (rotations.length > 0) console.log(`\n${rotationTable(rotations, nameOf)}`);
  }
  if (summary) {
    console.log(
      `run ${summary.runId}  action ${summary.action}  trigger ${summary.trigger}  ${nonZero(summary.counts)}\n`,
    );
    const rotations = summary.results.filter((r): r is RotationResult => 'outcome' in r);
    const audits = summary.results.filter((r): r is AuditResult => 'compliant' in r);
    if (rotations.length > 0) console.log(rotationTable(rotations, nameOf));
    if (audits.length > 0) console.log(auditTable(audits, nameOf));
  }
  console.log(`\nEvents received from the SQS queue (${events.length}):`);
  console.log(
    formatTable(
      ['detail-type', 'server', 'outcome', 'detail'],
      events.map((e) => {
        const d = e.detail;
        if (e['detail-type'] === 'MCP Rotation Run Completed') {
          return [e['detail-type'], '', '', `${String(d.action)} run, ${nonZero(d.counts as RunSummary['counts'])}`];
        }
        if ('compliant' in d) {
          const findings = (d.findings as { code: string }[]).map((f) => f.code).join(', ');
          return [e['detail-type'], nameOf(d.serverId), d.compliant ? 'compliant' : 'noncompliant', findings];
        }
        const detail = [`trigger ${String(d.trigger)}`, typeof d.incidentId === 'string' && `incident ${d.incidentId}`]
          .filter(Boolean)
          .join(', ');
        return [e['detail-type'], nameOf(d.serverId), String(d.outcome), detail];
      }),
    ),
  );
}

function nonZero(counts: RunSummary['counts']): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.join(', ') || 'nothing to do';
}

function rotationTable(results: RotationResult[], nameOf: (id: string) => string): string {
  return formatTable(
    ['server', 'teamspace', 'outcome', 'status', 'tools', 'version', 'duration', 'note'],
    results.map((r) => [
      nameOf(r.serverId),
      r.teamspaceId ?? '-',
      r.outcome + (r.rolledBack ? ' (rolled back)' : ''),
      r.status ?? '-',
      `${r.previousToolCount ?? '?'} -> ${r.toolCount ?? '?'}`,
      shortVersion(r.secretVersionId),
      `${r.durationMs} ms`,
      [r.preflight && `pre-flight ${r.preflight}`, r.error && `${r.error.code}: ${r.error.message}`]
        .filter(Boolean)
        .join('; '),
    ]),
  );
}

function auditTable(results: AuditResult[], nameOf: (id: string) => string): string {
  return formatTable(
    ['server', 'teamspace', 'compliant', 'status', 'tools', 'applied', 'current', 'age', 'findings'],
    results.map((r) => [
      nameOf(r.serverId),
      r.teamspaceId ?? '-',
      r.compliant ? 'yes' : 'NO',
      r.status ?? '-',
      String(r.toolCount ?? '-'),
      shortVersion(r.appliedVersionId),
      shortVersion(r.currentVersionId),
      r.credentialAgeDays === undefined ? '-' : `${r.credentialAgeDays} d`,
      r.findings.map((f) => f.code).join(', ') || '-',
    ]),
  );
}

function shortVersion(versionId: string | undefined): string {
  return versionId === undefined ? '-' : versionId.slice(0, 8);
}

/** Fails the demo if a credential reached the handler's logs, its result or an event. */
function checkNoLeak(invocation: Invocation, events: ReceivedEvent[]): void {
  const written = [
    invocation.stdout,
    invocation.stderr,
    JSON.stringify(invocation.summary ?? null),
    JSON.stringify(invocation.error ?? null),
    ...events.map((e) => e.raw),
  ].join('\n');
  if (credentials.some((c) => written.includes(c))) {
    throw new Error('A credential appeared in the handler output or an event: the leak check failed');
  }
}

try {
  await main();
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
