/**
 * The stack does not grow with the fleet: 30, 600 and 9,000 targets (one secret each, `mcp/tsNNN/srvNN`) synthesize
 * with cdk-nag clean, far under CloudFormation's limits (1 MB template, 500 resources), every IAM policy under
 * IAM's size limits and every event pattern under EventBridge's, and cfn-lint finds no error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE_CONTEXT, STACK_NAME, createRotatorApp } from '../../infra/rotator-app.ts';
import { MAX_EVENT_PATTERN_LENGTH } from '../../infra/secret-events.ts';
import { MAX_SECRET_MATCHERS } from '../../infra/secret-prefixes.ts';
import { fleetConfig } from '../support/fleet-config.ts';
import { SKIP_BUNDLING, cdkJsonContext, deployed, writeConfig } from './helpers.ts';

/** CloudFormation: a template uploaded through S3 may be 1 MB, and a stack may hold 500 resources. */
const TEMPLATE_LIMIT_BYTES = 1_000_000;
const RESOURCE_LIMIT = 500;
/** IAM: all inline policies of one role together, and one managed policy, in characters without whitespace. */
const ROLE_INLINE_POLICIES_LIMIT = 10_240;
const MANAGED_POLICY_LIMIT = 6_144;
/** Lambda: a function's resource-based policy (one statement per AWS::Lambda::Permission). */
const FUNCTION_POLICY_LIMIT = 20_480;

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}
interface Synthesized {
  template: { Resources: Record<string, Resource> };
  bytes: number;
  file: string;
  nagViolations: string[];
  secretMatchers: number;
  infos: string[];
}

const SHAPES = [
  { targets: 30, teamspaces: 1, serversPerTeamspace: 30 },
  { targets: 600, teamspaces: 20, serversPerTeamspace: 30 },
  { targets: 9000, teamspaces: 300, serversPerTeamspace: 30 },
];

function synthFleet(shape: (typeof SHAPES)[number]): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), `rotator-fleet-${shape.targets}-`));
  const configFile = writeConfig(fleetConfig(shape));
  const { app, stack } = createRotatorApp({
    outdir,
    context: { ...cdkJsonContext(), ...SKIP_BUNDLING, [CONFIG_FILE_CONTEXT]: configFile },
  });
  // cdk-nag errors fail the synth; warnings land in the validation report.
  const assembly = app.synth();
  const reportFile = join(outdir, 'validation-report.json');
  const report = existsSync(reportFile)
    ? (JSON.parse(readFileSync(reportFile, 'utf8')) as {
        pluginReports: { violations: { ruleName: string }[] }[];
      })
    : { pluginReports: [] };
  const file = join(outdir, `${STACK_NAME}.template.json`);
  const text = readFileSync(file, 'utf8');
  return {
    template: JSON.parse(text) as Synthesized['template'],
    bytes: Buffer.byteLength(JSON.stringify(JSON.parse(text))),
    file,
    nagViolations: report.pluginReports.flatMap((plugin) => plugin.violations.map((v) => v.ruleName)),
    secretMatchers: stack.rotator.secretMatchers.length,
    infos: assembly
      .getStackArtifact(stack.artifactId)
      .messages.filter((m) => String(m.level) === 'info')
      .map((m) => JSON.stringify(m.entry.data)),
  };
}

/** Characters of a policy document as IAM counts them (no whitespace), references resolved to long ARNs. */
const policyLength = (document: unknown) => JSON.stringify(deployed(document)).length;

const synthesizedFleets = new Map<number, Synthesized>();
beforeAll(() => {
  for (const shape of SHAPES) synthesizedFleets.set(shape.targets, synthFleet(shape));
}, 240_000);

describe.each(SHAPES)('a fleet of $targets targets', (shape) => {
  let synthesized: Synthesized;
  const resources = () => Object.entries(synthesized.template.Resources);
  const ofType = (type: string) => resources().filter(([, r]) => r.Type === type);

  beforeAll(() => {
    synthesized = synthesizedFleets.get(shape.targets)!;
  });

  it('synthesizes with cdk-nag clean and reports the secret prefixes it derived', () => {
    expect(synthesized.nagViolations).toEqual([]);
    expect(synthesized.secretMatchers).toBeLessThanOrEqual(MAX_SECRET_MATCHERS);
    expect(synthesized.infos).toEqual([
      expect.stringMatching(
        new RegExp(
          `^"datagrid-mcp-rotator: ${shape.targets} target secret\\(s\\) granted and matched as ${synthesized.secretMatchers} `,
        ),
      ),
    ]);
  });

  it('stays far under the template size and resource limits, and the same size for every fleet', () => {
    expect(synthesized.bytes).toBeLessThan(TEMPLATE_LIMIT_BYTES / 10);
    expect(resources().length).toBeLessThan(RESOURCE_LIMIT / 5);
    expect(ofType('AWS::Events::Rule').length).toBeLessThanOrEqual(4);
  });

  it('keeps every IAM policy under IAM’s limits, each role’s inline policies together too', () => {
    const perRole = new Map<string, number>();
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      const length = policyLength(policy.Properties?.PolicyDocument);
      for (const role of (policy.Properties?.Roles as unknown[]) ?? []) {
        const key = JSON.stringify(role);
        perRole.set(key, (perRole.get(key) ?? 0) + length);
      }
    }
    expect(perRole.size).toBeGreaterThan(0);
    for (const [role, length] of perRole) expect(length, role).toBeLessThan(ROLE_INLINE_POLICIES_LIMIT / 2);
    for (const [, policy] of ofType('AWS::IAM::ManagedPolicy')) {
      expect(policyLength(policy.Properties?.PolicyDocument)).toBeLessThan(MANAGED_POLICY_LIMIT);
    }
    const permissions = ofType('AWS::Lambda::Permission').map(([, p]) => policyLength(p.Properties));
    expect(permissions.reduce((a, b) => a + b, 0)).toBeLessThan(FUNCTION_POLICY_LIMIT / 4);
    for (const [, rule] of ofType('AWS::Events::Rule')) {
      expect(policyLength(rule.Properties?.EventPattern)).toBeLessThanOrEqual(MAX_EVENT_PATTERN_LENGTH);
    }
  });
});

describe('cfn-lint on the three fleets', () => {
  it('finds no error in any template', () => {
    const files = [...synthesizedFleets.values()].map((fleet) => fleet.file);
    expect(files).toHaveLength(SHAPES.length);
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...files], { encoding: 'utf8' });
    if (lint.error) throw new Error(`cfn-lint could not run (${lint.error.message}): pip install cfn-lint`);
    expect(lint.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line))).toEqual([]);
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; anything else means it broke.
    expect((lint.status ?? 1) & ~(4 | 8), lint.stderr).toBe(0);
  }, 120_000);
});
