/**
 * cdk-nag (AwsSolutions and Serverless packs) on the app `cdk synth` runs: no unsuppressed error or warning, and
 * every acknowledgement says why. cdk-nag 3 is a CDK policy-validation plugin: errors fail `app.synth()`, and every
 * unsuppressed finding (warnings included) lands in the cloud assembly's validation report.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { McpCredentialRotator } from '../../infra/mcp-credential-rotator.ts';
import { CONFIG_FILE_CONTEXT, createRotatorApp } from '../../infra/rotator-app.ts';
import { EXAMPLE_CONFIG, SKIP_BUNDLING, cdkJsonContext } from './helpers.ts';

const NAG_PLUGINS = ['AwsSolutions', 'Serverless'];

interface ReportViolation {
  ruleName: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
}
interface ValidationReport {
  pluginReports: { pluginName: string; violations: ReportViolation[] }[];
}

/**
 * Synthesizes an app into `outdir` and returns every nag finding as `severity rule at path`, and the error synth
 * failed with, if any. The report is written before synth fails, so findings are listed either way.
 */
function synthFindings(app: App, outdir: string): { findings: string[]; synthError?: Error } {
  let synthError: Error | undefined;
  try {
    app.synth();
  } catch (error) {
    synthError = error as Error;
  }
  const reportFile = join(outdir, 'validation-report.json');
  if (!existsSync(reportFile)) return { findings: [], synthError };
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport;
  const findings = report.pluginReports
    .filter((plugin) => NAG_PLUGINS.includes(plugin.pluginName))
    .flatMap((plugin) => plugin.violations)
    .flatMap((violation) =>
      violation.violatingConstructs.map((c) => `${violation.severity} ${violation.ruleName} at ${c.constructPath}`),
    );
  return { findings, synthError };
}

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag on the rotator app', () => {
  let app: App;
  let result: ReturnType<typeof synthFindings>;

  beforeAll(() => {
    const outdir = mkdtempSync(join(tmpdir(), 'rotator-nag-'));
    ({ app } = createRotatorApp({
      outdir,
      context: { ...cdkJsonContext(), ...SKIP_BUNDLING, [CONFIG_FILE_CONTEXT]: EXAMPLE_CONFIG },
    }));
    result = synthFindings(app, outdir);
  });

  it('synthesizes with both packs registered (any unsuppressed finding, even a warning, fails the synth)', () => {
    expect(result.synthError?.message).toBeUndefined();
  });

  it('leaves no unsuppressed error or warning in the validation report', () => {
    expect(result.findings).toEqual([]);
  });

  it('passes each pack checked directly, so a pack that did not run cannot pass silently', () => {
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const report = pack.validateScope(app);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
      expect(report.success).toBe(true);
    }
  });

  it('gives every acknowledgement a reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);
    }
  });

  it('acknowledges exactly the reviewed findings, each on the resource it excuses', () => {
    const acks = acknowledgements(app).map((ack) => `${ack.id} at ${ack.path}`);
    const rotator = 'DatagridMcpRotator/Rotator';
    expect(acks.sort()).toEqual(
      [
        `AwsSolutions-IAM5[Resource::*] at ${rotator}/Role`,
        `AwsSolutions-SQS3 at ${rotator}/FailedInvocationQueue`,
        `AwsSolutions-SQS3 at ${rotator}/TriggerDeadLetterQueue`,
        `Serverless-LambdaDLQ at ${rotator}/Function`,
        `Serverless-LambdaTracing at ${rotator}/Function`,
        `Serverless-SQSRedrivePolicy at ${rotator}/FailedInvocationQueue`,
        `Serverless-SQSRedrivePolicy at ${rotator}/TriggerDeadLetterQueue`,
      ].sort(),
    );
  });
});

describe('cdk-nag with every enterprise option on (VPC, customer managed key, result log, tracing)', () => {
  it('leaves no unsuppressed finding, and every acknowledgement says why', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'rotator-nag-options-'));
    const app = new App({ outdir, context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    const stack = new Stack(app, 'Options');
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    Validations.of(vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'Test scaffolding: the VPC stands in for the one a user passes in; flow logs are theirs to configure.',
    });
    new McpCredentialRotator(stack, 'Rotator', {
      configFile: EXAMPLE_CONFIG,
      vpc,
      encryptionKey: new Key(stack, 'Key', { enableKeyRotation: true }),
      resultLog: true,
      tracing: true,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    const { findings, synthError } = synthFindings(app, outdir);
    expect(findings).toEqual([]);
    expect(synthError?.message).toBeUndefined();
    for (const ack of acknowledgements(app)) {
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);
    }
  });
});

describe('the nag check itself', () => {
  it('fails the synth on an unsuppressed finding, naming the rule', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'rotator-nag-control-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Control');
    new Queue(stack, 'PlainQueue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    const { findings, synthError } = synthFindings(app, outdir);
    expect(synthError?.message).toMatch(/AwsSolutions-SQS4/);
    expect(findings).toContain('error AwsSolutions-SQS4 at Control/PlainQueue/Resource');
    expect(findings).toContain('error Serverless-SQSRedrivePolicy at Control/PlainQueue/Resource');
  });
});
