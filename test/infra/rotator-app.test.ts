/** Which configuration file `cdk synth` deploys. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfigFile } from '../../infra/rotator-app.ts';

describe('resolveConfigFile', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'rotator-app-'));

  it('takes the configFile context value, relative to the working directory', () => {
    const cwd = dir();
    expect(resolveConfigFile('configs/prod.json', cwd)).toBe(join(cwd, 'configs/prod.json'));
    expect(resolveConfigFile('/etc/rotator.json', cwd)).toBe('/etc/rotator.json');
  });

  it('prefers rotation.config.json when it exists', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'rotation.config.json'), '{}');
    expect(resolveConfigFile(undefined, cwd)).toBe(join(cwd, 'rotation.config.json'));
  });

  it('falls back to the example', () => {
    const cwd = dir();
    expect(resolveConfigFile(undefined, cwd)).toBe(join(cwd, 'rotation.config.example.json'));
    expect(resolveConfigFile('', cwd)).toBe(join(cwd, 'rotation.config.example.json'));
  });
});
