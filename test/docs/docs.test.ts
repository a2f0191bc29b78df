/**
 * The user documentation stands alone and stays true to the code: every relative link in README.md and docs/*.md
 * resolves to a file inside this repository (and to a heading, when it names one); every key of rotation.schema.json
 * is documented in docs/configuration.md with the schema's default; every error code the rotator can report has a row
 * in docs/events-and-results.md; every `npm run` the docs show is a script of package.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../lambda/errors.ts';
import { collectSchemaKeys, linkProblems, tableRowFor } from './markdown.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS_DIR = join(ROOT, 'docs');

const docFiles = [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS_DIR)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(DOCS_DIR, name)),
];

const read = (file: string): string => readFileSync(file, 'utf8');
const show = (file: string): string => relative(ROOT, file);

describe('links in README.md and docs/', () => {
  it('the docs the README promises exist', () => {
    for (const name of [
      'configuration.md',
      'events-and-results.md',
      'operations.md',
      'orchestration.md',
      'cli.md',
      'security.md',
      'performance.md',
      'architecture.md',
    ]) {
      expect(existsSync(join(DOCS_DIR, name)), `docs/${name}`).toBe(true);
    }
  });

  it.each(docFiles.map((file) => [show(file), file]))(
    '%s: every relative link resolves inside the repository',
    (_name, file) => {
      expect(linkProblems(file, ROOT)).toEqual([]);
    },
  );

  it('the check reports a missing file, a missing heading and a link out of the repository', () => {
    const root = mkdtempSync(join(tmpdir(), 'docs-links-'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'a.md'), '# Title\n\n## Two words\n');
    const page = join(root, 'README.md');
    writeFileSync(
      page,
      [
        '[ok](docs/a.md#two-words) [self](#readme) [web](https://example.com) `[code](nowhere.md)`',
        '# Readme',
        '[gone](docs/b.md) [no heading](docs/a.md#three) [out](../shared/contract.md)',
        '```',
        '[in a code block](nowhere.md)',
        '```',
      ].join('\n'),
    );
    expect(linkProblems(page, root)).toEqual([
      'line 3: (docs/b.md) names a file that does not exist',
      'line 3: (docs/a.md#three) names no heading of docs/a.md',
      'line 3: (../shared/contract.md) leaves the repository',
    ]);
  });

  it('the README stays a front door (at most about 15 KB)', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(16 * 1024);
  });
});

describe('docs/configuration.md against rotation.schema.json', () => {
  const schema: unknown = JSON.parse(read(join(ROOT, 'rotation.schema.json')));
  const keys = collectSchemaKeys(schema);
  const page = read(join(DOCS_DIR, 'configuration.md'));

  it('the schema has keys to check', () => {
    expect(keys.map((key) => key.path)).toEqual(
      expect.arrayContaining(['datagrid.apiKeySecretId', 'concurrency.global', 'targets[].secretId']),
    );
  });

  it.each(keys.map((key) => [key.path, key] as const))(
    '%s is documented in a table row, with its default',
    (_path, key) => {
      const row = tableRowFor(page, key.name);
      expect(row, `no table row of docs/configuration.md starts with \`${key.name}\``).toBeDefined();
      if (key.default !== undefined) expect(row).toContain(`\`${JSON.stringify(key.default)}\``);
    },
  );
});

describe('docs/events-and-results.md against the code', () => {
  const page = read(join(DOCS_DIR, 'events-and-results.md'));

  it.each([...ERROR_CODES])('error code %s has a row saying what it means', (code) => {
    expect(tableRowFor(page, code), `no table row of docs/events-and-results.md starts with \`${code}\``).toBeDefined();
  });
});

describe('commands in README.md and docs/', () => {
  const scripts = Object.keys((JSON.parse(read(join(ROOT, 'package.json'))) as { scripts: object }).scripts);

  it.each(docFiles.map((file) => [show(file), file]))(
    '%s: every `npm run` names a script of package.json',
    (_name, file) => {
      const named = [...read(file).matchAll(/npm run ([a-z][\w:-]*)/g)].map((match) => match[1]);
      expect(named.filter((script) => script !== undefined && !scripts.includes(script))).toEqual([]);
    },
  );
});
