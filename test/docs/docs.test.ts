/**
 * The user documentation stands alone and stays true to the code: every relative link in README.md and docs/*.md
 * resolves to a file inside this repository (and to a heading, when it names one); no file of the repository (docs,
 * READMEs, the changelog, code comments) cites a document outside it; every key of rotation.schema.json is documented
 * in docs/configuration.md with the schema's default; every error code and audit finding code the rotator can report
 * has a row in docs/events-and-results.md; every `npm run` the docs show is a script of package.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as errorsModule from '../../lambda/errors.ts';
import { ERROR_CODES } from '../../lambda/errors.ts';
import * as resultsModule from '../../lambda/types/results.ts';
import { collectSchemaKeys, linkProblems, tableRowFor } from './markdown.ts';
import { codeLiterals, outsideCitations, repositoryFiles, section, textOf } from './repository.ts';

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

describe('the repository cites nothing outside itself', () => {
  // The tests are left out: this one has to name what it looks for.
  const files = repositoryFiles(ROOT).filter((path) => !path.startsWith('test/'));

  it('finds the files users read', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'CHANGELOG.md',
        'docs/operations.md',
        'local/README.md',
        'lambda/handler.ts',
      ]),
    );
  });

  it('no README, doc, changelog or code comment mentions "../shared" or "contract §"', () => {
    const citations = files.flatMap((path) => {
      const text = textOf(join(ROOT, path));
      return text === undefined ? [] : outsideCitations(path, text);
    });
    expect(citations, 'point these at docs/ instead').toEqual([]);
  });

  it('the check finds citations in prose, comments and strings, but not in module specifiers', () => {
    expect(
      outsideCitations(
        'x.ts',
        [
          "import { a } from '../shared/a.ts';",
          "const b = await import('../shared/b.ts');",
          '/** The rules of contract §8. */',
          '// see ../shared/datagrid-api.md',
          "const message = 'as the Contract §3 says';",
        ].join('\n'),
      ),
    ).toEqual([
      'x.ts:3: /** The rules of contract §8. */',
      'x.ts:4: // see ../shared/datagrid-api.md',
      "x.ts:5: const message = 'as the Contract §3 says';",
    ]);
    expect(outsideCitations('README.md', "The API of `../shared/datagrid-api.md`; from '../shared/x'")).toHaveLength(1);
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

  const errorCodes = section(page, 'Error codes');
  const findingCodes = section(page, 'Finding codes');

  it.each([...ERROR_CODES])('error code %s has a row saying what it means', (code) => {
    expect(tableRowFor(errorCodes, code), `no row of "## Error codes" starts with \`${code}\``).toBeDefined();
  });

  // Every code an audit can report: the literals of the audit modules (the error codes a failed read carries among
  // them), and a list of finding codes, should the code ever export one beside ERROR_CODES.
  const auditModules = readdirSync(join(ROOT, 'lambda/engine')).filter((name) => /^audit.*\.ts$/.test(name));
  const exportedFindingCodes = [errorsModule, resultsModule].flatMap((module) =>
    Object.entries(module).flatMap(([name, value]) =>
      /FINDING_CODES$/.test(name) && Array.isArray(value) ? value.map(String) : [],
    ),
  );
  const auditCodes = [
    ...new Set([
      ...auditModules.flatMap((name) => codeLiterals(read(join(ROOT, 'lambda/engine', name)))),
      ...exportedFindingCodes,
    ]),
  ].sort();

  it('the audit modules have finding codes to check', () => {
    expect(auditCodes).toEqual(expect.arrayContaining(['CREDENTIAL_DRIFT', 'SECRET_MISSING', 'STATUS_UNHEALTHY']));
  });

  it.each(auditCodes)('audit finding code %s has a row saying what it means', (code) => {
    // An error code in a finding (a read that failed) is explained once, in the error codes.
    const table = (ERROR_CODES as readonly string[]).includes(code) ? errorCodes : findingCodes;
    expect(
      tableRowFor(table, code),
      `no row of docs/events-and-results.md's codes starts with \`${code}\``,
    ).toBeDefined();
  });

  it('says that a finding can carry an error code', () => {
    expect(findingCodes).toMatch(/the finding carries the read's error code/);
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
