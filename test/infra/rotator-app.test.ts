/** Which configuration file `cdk synth` deploys, and the safe first deploy: no configuration, no deployable template. */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_FILE_CONTEXT,
  EXAMPLE_NOT_DEPLOYABLE,
  SCHEDULES_ENABLED_CONTEXT,
  createRotatorApp,
  resolveConfigFile,
} from '../../infra/rotator-app.ts';
import { EXAMPLE_CONFIG, FIXTURE_CONFIG, SKIP_BUNDLING, cdkJsonContext } from './helpers.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'rotator-app-'));

describe('resolveConfigFile', () => {
  it('takes the configFile context value, relative to the working directory', () => {
    const cwd = dir();
    expect(resolveConfigFile('configs/prod.json', cwd)).toEqual({
      path: join(cwd, 'configs/prod.json'),
      example: false,
    });
    expect(resolveConfigFile('/etc/rotator.json', cwd)).toEqual({ path: '/etc/rotator.json', example: false });
  });

  it('prefers rotation.config.json when it exists', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'rotation.config.json'), '{}');
    expect(resolveConfigFile(undefined, cwd)).toEqual({ path: join(cwd, 'rotation.config.json'), example: false });
  });

  it('falls back to the example, and says so', () => {
    const cwd = dir();
    const example = { path: join(cwd, 'rotation.config.example.json'), example: true };
    expect(resolveConfigFile(undefined, cwd)).toEqual(example);
    expect(resolveConfigFile('', cwd)).toEqual(example);
  });
});

// Each case builds the whole app in-process; on a loaded 2-core machine that takes a while.
describe('createRotatorApp', { timeout: 120_000 }, () => {
  const synth = (context: Record<string, unknown>, cwd: string) => {
    const { stack } = createRotatorApp({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING, ...context } }, cwd);
    return { stack, template: Template.fromStack(stack).toJSON() as { Rules?: Record<string, unknown> } };
  };

  it('without a configuration synthesizes the example into a template CloudFormation refuses to deploy', () => {
    const cwd = dir();
    copyFileSync(EXAMPLE_CONFIG, join(cwd, 'rotation.config.example.json'));
    const { template } = synth({}, cwd);
    expect(template.Rules?.ExampleConfigurationIsNotDeployable).toEqual({
      Assertions: [
        {
          // No account id equals this string: the assertion fails on every deploy, before any resource is touched.
          Assert: { 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, 'example-configuration'] },
          AssertDescription: EXAMPLE_NOT_DEPLOYABLE,
        },
      ],
    });
    expect(EXAMPLE_NOT_DEPLOYABLE).toContain('-c configFile=');
  });

  it('with -c configFile=… (even the example, named on purpose) or rotation.config.json the template deploys', () => {
    const cwd = dir();
    expect(synth({ [CONFIG_FILE_CONTEXT]: EXAMPLE_CONFIG }, cwd).template.Rules).not.toHaveProperty(
      'ExampleConfigurationIsNotDeployable',
    );
    copyFileSync(FIXTURE_CONFIG, join(cwd, 'rotation.config.json'));
    expect(synth({}, cwd).template.Rules).not.toHaveProperty('ExampleConfigurationIsNotDeployable');
  });

  it('-c schedulesEnabled=false deploys both schedules disabled (the first deploy)', () => {
    const { template } = synth({ [CONFIG_FILE_CONTEXT]: FIXTURE_CONFIG, [SCHEDULES_ENABLED_CONTEXT]: 'false' }, dir());
    const schedules = Object.values(
      (template as unknown as { Resources: Record<string, { Type: string; Properties: { State?: string } }> })
        .Resources,
    ).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules.map((s) => s.Properties.State)).toEqual(['DISABLED', 'DISABLED']);
  });
});
