import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, loadConfigFileSync, parseConfig } from '../../lambda/config.ts';
import { configJsonSchema, configJsonSchemaText } from '../../lambda/config/json-schema.ts';
import {
  DEFAULT_BASE_URL,
  DEFAULT_CONCURRENCY,
  DEFAULT_DATAGRID,
  DEFAULT_TARGET_SETTINGS,
} from '../../lambda/constants.ts';
import { ConfigError } from '../../lambda/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A minimal valid file; `extra` is merged at the top level, `target` into the first target. */
function config(extra: Record<string, unknown> = {}, target: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    datagrid: { apiKeySecretId: 'datagrid/api-key' },
    targets: [{ serverId: 'srv_1', secretId: 'mcp/one', ...target }],
    ...extra,
  };
}

/** The issue lines of the ConfigError `fn` throws (fails the test when it does not throw one). */
function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.message.split('\n').slice(1)).toEqual(configError.issues);
    return configError.issues;
  }
  throw new Error('expected a ConfigError');
}

const issuesOfConfig = (raw: unknown) => issuesOf(() => parseConfig(raw));

describe('parseConfig: resolution', () => {
  it('fills every unset setting with the built-in defaults', () => {
    const resolved = parseConfig(config());
    expect(resolved.datagrid).toEqual({ ...DEFAULT_DATAGRID, apiKeySecretId: 'datagrid/api-key' });
    expect(resolved.concurrency).toEqual(DEFAULT_CONCURRENCY);
    expect(resolved.targets).toEqual([
      {
        key: 'srv_1',
        serverId: 'srv_1',
        teamspaceId: undefined,
        secretId: 'mcp/one',
        jsonKey: undefined,
        ...DEFAULT_TARGET_SETTINGS,
      },
    ]);
  });

  it('prefers the target value, then defaults, then the built-in default, per setting', () => {
    const resolved = parseConfig({
      datagrid: { apiKeySecretId: 'k', apiKeyJsonKey: 'apiKey', requestTimeoutMs: 2000, maxAttempts: 2 },
      concurrency: { global: 3, haltAfterFailures: 0 },
      defaults: { jsonKey: 'token', minToolCount: 5, rollbackOnFailure: false, pendingStatuses: [] },
      targets: [
        { serverId: 'a', secretId: 's', minToolCount: 0, headerTemplate: 'Token {{secret}}' },
        { serverId: 'b', teamspaceId: 'ts_1', secretId: 's', jsonKey: 'other', rollbackOnFailure: true },
      ],
    });
    expect(resolved.datagrid).toEqual({
      baseUrl: DEFAULT_BASE_URL,
      apiKeySecretId: 'k',
      apiKeyJsonKey: 'apiKey',
      requestTimeoutMs: 2000,
      maxAttempts: 2,
    });
    expect(resolved.concurrency).toEqual({
      global: 3,
      perTeamspace: DEFAULT_CONCURRENCY.perTeamspace,
      haltAfterFailures: 0,
    });
    const [a, b] = resolved.targets;
    expect(a).toMatchObject({
      key: 'a',
      jsonKey: 'token',
      minToolCount: 0,
      headerTemplate: 'Token {{secret}}',
      rollbackOnFailure: false,
      pendingStatuses: [],
      healthyStatuses: ['active'],
      verifyTimeoutSeconds: DEFAULT_TARGET_SETTINGS.verifyTimeoutSeconds,
    });
    expect(b).toMatchObject({
      key: 'ts_1/b',
      teamspaceId: 'ts_1',
      jsonKey: 'other',
      minToolCount: 5,
      headerTemplate: DEFAULT_TARGET_SETTINGS.headerTemplate,
      rollbackOnFailure: true,
    });
  });

  it('gives each target its own status arrays, never the shared defaults', () => {
    const [first, second] = parseConfig({
      datagrid: { apiKeySecretId: 'k' },
      targets: [
        { serverId: 'a', secretId: 's' },
        { serverId: 'b', secretId: 's' },
      ],
    }).targets;
    first!.healthyStatuses.push('mutated');
    expect(second!.healthyStatuses).toEqual(['active']);
    expect(DEFAULT_TARGET_SETTINGS.healthyStatuses).toEqual(['active']);
  });

  it('strips trailing slashes from baseUrl', () => {
    const resolved = parseConfig(
      config({ datagrid: { apiKeySecretId: 'k', baseUrl: 'https://Datagrid.example/v1//' } }),
    );
    expect(resolved.datagrid.baseUrl).toBe('https://datagrid.example/v1');
    expect(
      parseConfig(config({ datagrid: { apiKeySecretId: 'k', baseUrl: 'https://h.example' } })).datagrid.baseUrl,
    ).toBe('https://h.example');
  });

  it('accepts a top-level $schema', () => {
    expect(() => parseConfig(config({ $schema: './rotation.schema.json' }))).not.toThrow();
  });
});

describe('parseConfig: rules, each named by its field', () => {
  it('rejects a file that is not an object, or lacks datagrid or targets', () => {
    expect(issuesOfConfig([])).toEqual(['(root): expected an object, got array']);
    expect(issuesOfConfig({})).toEqual([
      'datagrid: required: expected an object',
      'targets: required: expected an array',
    ]);
    expect(issuesOfConfig(config({ targets: [] }))).toEqual(['targets: expected at least one target']);
    expect(issuesOfConfig(config({ datagrid: {} }))).toEqual(['datagrid.apiKeySecretId: required: expected a string']);
  });

  it('rejects unknown keys at every level, naming the key and suggesting the right spelling', () => {
    const issues = issuesOfConfig({
      datagrid: { apiKeySecretId: 'k', apiKeySecretID: 'k' },
      concurrency: { globl: 2 },
      defaults: { minToolcount: 1 },
      targets: [{ serverId: 'a', secretId: 's', secretID: 's' }],
      extra: true,
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        'datagrid.apiKeySecretID: unknown key (did you mean "apiKeySecretId"?)',
        'concurrency.globl: unknown key',
        'defaults.minToolcount: unknown key (did you mean "minToolCount"?)',
        'targets[0].secretID: unknown key (did you mean "secretId"?)',
        'extra: unknown key',
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it('keeps identity fields out of defaults', () => {
    expect(issuesOfConfig(config({ defaults: { secretId: 's', serverId: 'x' } }))).toEqual([
      'defaults.secretId: not allowed in defaults: set it on each target',
      'defaults.serverId: not allowed in defaults: set it on each target',
    ]);
  });

  it('requires ids to be non-empty strings without surrounding whitespace', () => {
    expect(issuesOfConfig(config({}, { serverId: '' }))).toEqual(['targets[0].serverId: expected a non-empty string']);
    expect(issuesOfConfig(config({}, { secretId: ' mcp/one' }))).toEqual([
      'targets[0].secretId: must not start or end with whitespace',
    ]);
    expect(issuesOfConfig(config({}, { jsonKey: 'token\n' }))).toEqual([
      'targets[0].jsonKey: must not start or end with whitespace',
    ]);
    expect(issuesOfConfig(config({}, { teamspaceId: 7 }))).toEqual([
      'targets[0].teamspaceId: expected a string, got number',
    ]);
    expect(issuesOfConfig(config({ datagrid: { apiKeySecretId: 'k', apiKeyJsonKey: '' } }))).toEqual([
      'datagrid.apiKeyJsonKey: expected a non-empty string',
    ]);
    // A secret ARN has colons and slashes; only serverId/teamspaceId are path segments.
    expect(() =>
      parseConfig(config({}, { secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/x-AbCdEf' })),
    ).not.toThrow();
  });

  it('rejects "/" in serverId and teamspaceId, which the teamspaceId/serverId syntax relies on', () => {
    expect(issuesOfConfig(config({}, { serverId: 'a/b', teamspaceId: 'ts/1' }))).toEqual([
      'targets[0].serverId: must not contain "/" or "#"',
      'targets[0].teamspaceId: must not contain "/" or "#"',
    ]);
  });

  it('rejects "#" in ids: teamspace "a#b" with server "c" and teamspace "a" with server "b#c" would share a state key', () => {
    const raw = {
      datagrid: { apiKeySecretId: 'datagrid/api-key' },
      targets: [
        { teamspaceId: 'a#b', serverId: 'c', secretId: 'mcp/one' },
        { teamspaceId: 'a', serverId: 'b#c', secretId: 'mcp/two' },
      ],
    };
    expect(issuesOfConfig(raw)).toEqual([
      'targets[0].teamspaceId: must not contain "/" or "#"',
      'targets[1].serverId: must not contain "/" or "#"',
    ]);
  });

  const SECRET_ID_PROBLEM =
    'expected a Secrets Manager secret name (letters, digits and /_+=.@- only) or secret ARN; wildcards (* ?) are not allowed';

  it.each([
    'mcp/*',
    'mcp/github-??????',
    '*',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:*',
    'arn:aws:secretsmanager:*:*:secret:mcp/github',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/*',
    'arn:aws:iam::123456789012:role/x',
    'mcp/with space',
    'x'.repeat(513),
  ])('rejects secretId %j, which would widen the IAM grant or is no Secrets Manager id', (bad) => {
    expect(issuesOfConfig(config({}, { secretId: bad }))).toEqual([`targets[0].secretId: ${SECRET_ID_PROBLEM}`]);
    expect(issuesOfConfig(config({ datagrid: { apiKeySecretId: bad } }))).toEqual([
      `datagrid.apiKeySecretId: ${SECRET_ID_PROBLEM}`,
    ]);
  });

  it.each([
    'mcp/github',
    'prod/mcp_github+v2=x.y@z-1',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/github-AbCdEf',
    'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:mcp/github',
  ])('accepts secretId %j', (good) => {
    expect(parseConfig(config({ datagrid: { apiKeySecretId: good } }, { secretId: good })).targets[0]!.secretId).toBe(
      good,
    );
  });

  it.each([
    ['Bearer', 'must contain {{secret}} exactly once'],
    ['{{secret}}{{secret}}', 'must contain {{secret}} exactly once'],
    ['Bearer {{secret}}\r\nX-Injected: 1', 'must not contain control characters (CR, LF, NUL, ...)'],
    ['Bearer {{secret}}\u0000', 'must not contain control characters (CR, LF, NUL, ...)'],
  ])('rejects headerTemplate %j', (headerTemplate, expected) => {
    expect(issuesOfConfig(config({}, { headerTemplate }))).toEqual([`targets[0].headerTemplate: ${expected}`]);
    expect(issuesOfConfig(config({ defaults: { headerTemplate } }))).toEqual([`defaults.headerTemplate: ${expected}`]);
  });

  it('accepts a raw {{secret}} template', () => {
    expect(parseConfig(config({}, { headerTemplate: '{{secret}}' })).targets[0]!.headerTemplate).toBe('{{secret}}');
  });

  it('requires healthyStatuses non-empty, statuses non-empty strings; pendingStatuses may be empty', () => {
    expect(issuesOfConfig(config({}, { healthyStatuses: [] }))).toEqual([
      'targets[0].healthyStatuses: expected at least one status',
    ]);
    expect(issuesOfConfig(config({}, { healthyStatuses: ['active', ''], pendingStatuses: [1] }))).toEqual([
      'targets[0].healthyStatuses[1]: expected a non-empty string',
      'targets[0].pendingStatuses[0]: expected a string, got number',
    ]);
    expect(issuesOfConfig(config({}, { pendingStatuses: 'pending' }))).toEqual([
      'targets[0].pendingStatuses: expected an array, got string',
    ]);
    expect(parseConfig(config({}, { pendingStatuses: [] })).targets[0]!.pendingStatuses).toEqual([]);
  });

  it('rejects a status that is both healthy and pending, after defaults and built-ins apply', () => {
    expect(issuesOfConfig(config({}, { healthyStatuses: ['ok'], pendingStatuses: ['ok', 'busy'] }))).toEqual([
      'targets[0].pendingStatuses: must not overlap healthyStatuses: "ok"',
    ]);
    // Against the built-in pendingStatuses ["pending", "syncing"].
    expect(issuesOfConfig(config({}, { healthyStatuses: ['active', 'syncing'] }))).toEqual([
      'targets[0].healthyStatuses: must not overlap pendingStatuses (built-in default): "syncing"',
    ]);
    expect(issuesOfConfig(config({ defaults: { pendingStatuses: ['active'] } }))).toEqual([
      'defaults.pendingStatuses: must not overlap healthyStatuses (built-in default): "active"',
    ]);
    expect(
      issuesOfConfig(config({ defaults: { healthyStatuses: ['ready'] } }, { pendingStatuses: ['ready'] })),
    ).toEqual(['targets[0].pendingStatuses: must not overlap healthyStatuses (from defaults): "ready"']);
    // Overriding both sides is fine.
    expect(() =>
      parseConfig(config({ defaults: { pendingStatuses: [] } }, { healthyStatuses: ['active', 'pending'] })),
    ).not.toThrow();
  });

  it.each([
    ['datagrid.requestTimeoutMs', { datagrid: { apiKeySecretId: 'k', requestTimeoutMs: 99 } }, {}, 100, 300000],
    ['datagrid.maxAttempts', { datagrid: { apiKeySecretId: 'k', maxAttempts: 11 } }, {}, 1, 10],
    ['concurrency.global', { concurrency: { global: 0 } }, {}, 1, 100],
    ['concurrency.perTeamspace', { concurrency: { perTeamspace: 101 } }, {}, 1, 100],
    ['concurrency.haltAfterFailures', { concurrency: { haltAfterFailures: -1 } }, {}, 0, 1000],
    ['targets[0].minToolCount', {}, { minToolCount: 100001 }, 0, 100000],
    ['targets[0].verifyTimeoutSeconds', {}, { verifyTimeoutSeconds: 901 }, 0, 900],
    ['targets[0].maxCredentialAgeDays', {}, { maxCredentialAgeDays: 0 }, 1, 3650],
  ])('bounds %s', (path, extra, target, min, max) => {
    expect(issuesOfConfig(config(extra, target))).toEqual([`${path}: expected an integer from ${min} to ${max}`]);
  });

  it('rejects non-integers and strings for integer settings', () => {
    expect(issuesOfConfig(config({}, { minToolCount: 1.5 }))).toEqual([
      'targets[0].minToolCount: expected an integer from 0 to 100000',
    ]);
    expect(issuesOfConfig(config({ concurrency: { global: '8' } }))).toEqual([
      'concurrency.global: expected an integer from 1 to 100',
    ]);
    expect(issuesOfConfig(config({}, { rollbackOnFailure: 'yes' }))).toEqual([
      'targets[0].rollbackOnFailure: expected true or false, got string',
    ]);
  });

  it('accepts the bounds themselves', () => {
    expect(() =>
      parseConfig(
        config(
          {
            datagrid: { apiKeySecretId: 'k', requestTimeoutMs: 300000, maxAttempts: 1 },
            concurrency: { global: 100, perTeamspace: 1, haltAfterFailures: 0 },
          },
          { minToolCount: 0, verifyTimeoutSeconds: 0, maxCredentialAgeDays: 3650 },
        ),
      ),
    ).not.toThrow();
  });

  it('names both indexes of a duplicate (teamspaceId, serverId)', () => {
    const raw = {
      datagrid: { apiKeySecretId: 'k' },
      targets: [
        { serverId: 'srv_1', secretId: 's' },
        { serverId: 'srv_2', teamspaceId: 'ts_1', secretId: 's' },
        { serverId: 'srv_2', secretId: 's' },
        { serverId: 'srv_2', teamspaceId: 'ts_1', secretId: 'other' },
        { serverId: 'srv_1', secretId: 's' },
      ],
    };
    expect(issuesOfConfig(raw)).toEqual([
      'targets[3]: duplicate of targets[1] (ts_1/srv_2)',
      'targets[4]: duplicate of targets[0] (srv_1)',
    ]);
  });

  it('lists every problem at once, field errors and cross-field rules together', () => {
    const issues = issuesOfConfig({
      datagrid: { apiKeySecretId: 'k', baseUrl: 'http://api.example.com' },
      targets: [
        { serverId: 'a', secretId: 's', headerTemplate: 'Bearer' },
        { serverId: 'a', secretId: 's' },
      ],
    });
    expect(issues).toEqual([
      'datagrid.baseUrl: https required unless the host is loopback (127.0.0.0/8, ::1, localhost)',
      'targets[0].headerTemplate: must contain {{secret}} exactly once',
      'targets[1]: duplicate of targets[0] (a)',
    ]);
  });
});

describe('parseConfig: messages stay short', () => {
  it('never quotes a rejected value', () => {
    const canary = 'CANARY-VALUE-7f3a';
    const error = (() => {
      try {
        parseConfig({
          datagrid: { apiKeySecretId: ` ${canary}`, baseUrl: `http://${canary}.example.com` },
          targets: [{ serverId: `${canary}/x`, secretId: 's', headerTemplate: `${canary}\r\n`, minToolCount: canary }],
        });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.issues).toHaveLength(6); // headerTemplate breaks two rules
    expect(error.message).not.toContain(canary);
  });
});

describe('parseConfig: baseUrl', () => {
  const withBaseUrl = (baseUrl: unknown) => config({ datagrid: { apiKeySecretId: 'k', baseUrl } });

  it.each(['http://127.0.0.5:8080', 'http://127.0.0.1', 'http://localhost:4010/v1/', 'http://[::1]:9000'])(
    'allows plain http to loopback %s',
    (baseUrl) => {
      expect(parseConfig(withBaseUrl(baseUrl)).datagrid.baseUrl).toBe(baseUrl.replace(/\/+$/, ''));
    },
  );

  it.each(['http://api.datagrid.com/v1', 'http://128.0.0.1', 'http://localhost.example.com', 'http://10.0.0.1'])(
    'rejects plain http elsewhere: %s',
    (baseUrl) => {
      expect(issuesOfConfig(withBaseUrl(baseUrl))).toEqual([
        'datagrid.baseUrl: https required unless the host is loopback (127.0.0.0/8, ::1, localhost)',
      ]);
    },
  );

  it.each(['api.datagrid.com', 'ftp://api.datagrid.com', '', 42])('rejects %j as not a URL', (baseUrl) => {
    const [issue] = issuesOfConfig(withBaseUrl(baseUrl));
    expect(issue).toMatch(/^datagrid\.baseUrl: expected (an absolute http\(s\) URL|a string, got number)$/);
  });

  it.each(['https://user:pa55word@api.datagrid.com/v1', 'https://token@api.datagrid.com/v1'])(
    'rejects user info, which would ship a credential inside the Lambda asset, without quoting it: %s',
    (baseUrl) => {
      const issues = issuesOfConfig(withBaseUrl(baseUrl));
      expect(issues).toEqual([
        'datagrid.baseUrl: must not contain user info (user:password@); the API key is read from datagrid.apiKeySecretId',
      ]);
      expect(issues.join('\n')).not.toMatch(/pa55word|token@/);
    },
  );

  it('rejects a query or fragment, which would swallow the request paths', () => {
    expect(issuesOfConfig(withBaseUrl('https://api.example.com/v1?x=1'))).toEqual([
      'datagrid.baseUrl: must not have a query or fragment',
    ]);
  });
});

describe('loadConfigFile / loadConfigFileSync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rotator-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  async function bothFail(path: string): Promise<ConfigError[]> {
    const asyncError = await loadConfigFile(path).then(
      () => undefined,
      (error: unknown) => error,
    );
    let syncError: unknown;
    try {
      loadConfigFileSync(path);
    } catch (error) {
      syncError = error;
    }
    expect(asyncError).toBeInstanceOf(ConfigError);
    expect(syncError).toBeInstanceOf(ConfigError);
    expect((asyncError as ConfigError).message).toBe((syncError as ConfigError).message);
    return [asyncError as ConfigError, syncError as ConfigError];
  }

  it('loads and resolves a valid file, with or without a byte-order mark', async () => {
    const path = write('ok.json', `\uFEFF${JSON.stringify(config())}`);
    expect((await loadConfigFile(path)).targets[0]!.key).toBe('srv_1');
    expect(loadConfigFileSync(path).targets[0]!.key).toBe('srv_1');
  });

  it('names a missing file', async () => {
    const path = join(dir, 'missing.json');
    const [error] = await bothFail(path);
    expect(error!.message).toBe(`Invalid rotation config ${path}:\nfile not found`);
    expect(error!.issues).toEqual(['file not found']);
  });

  it('names the file and the position of invalid JSON, without quoting its content', async () => {
    const path = write('bad.json', '{\n  "datagrid": {\n    "apiKeySecretId" "k"\n  }\n}\n');
    const [error] = await bothFail(path);
    expect(error!.message).toMatch(new RegExp(`^Invalid rotation config ${path}:\ninvalid JSON: .*position \\d+`));
    expect(error!.message).toContain('line 3');

    const quoted = write('quoted.json', '{"datagrid": CANARY_CONTENT}');
    const [quotedError] = await bothFail(quoted);
    expect(quotedError!.message).toMatch(/^Invalid rotation config .*:\ninvalid JSON: Unexpected token/);
    expect(quotedError!.message).not.toContain('CANARY_CONTENT');
  });

  it('prefixes validation problems with the file name, one issue per line', async () => {
    const path = write('invalid.json', JSON.stringify(config({}, { secretID: 'x', minToolCount: -1 })));
    const [error] = await bothFail(path);
    expect(error!.issues).toEqual([
      'targets[0].minToolCount: expected an integer from 0 to 100000',
      'targets[0].secretID: unknown key (did you mean "secretId"?)',
    ]);
    expect(error!.message).toBe([`Invalid rotation config ${path}:`, ...error!.issues].join('\n'));
  });

  it('rejects a directory', async () => {
    const [error] = await bothFail(dir);
    expect(error!.issues).toEqual(['is a directory, expected a JSON file']);
  });
});

describe('rotation.config.example.json', () => {
  it('is valid and shows 3 targets over 2 teamspaces, a jsonKey, a raw template and defaults', async () => {
    const example = JSON.parse(readFileSync(join(ROOT, 'rotation.config.example.json'), 'utf8'));
    expect(example.$schema).toBe('./rotation.schema.json');
    expect(example.defaults).toBeDefined();
    const resolved = await loadConfigFile(join(ROOT, 'rotation.config.example.json'));
    expect(resolved.datagrid.baseUrl).toBe(DEFAULT_BASE_URL);
    expect(resolved.datagrid.apiKeySecretId).toBe('datagrid/api-key');
    expect(resolved.targets).toHaveLength(3);
    expect(new Set(resolved.targets.map((t) => t.teamspaceId)).size).toBe(2);
    expect(resolved.targets.some((t) => t.jsonKey !== undefined)).toBe(true);
    expect(resolved.targets.some((t) => t.headerTemplate === '{{secret}}')).toBe(true);
  });
});

describe('rotation.schema.json', () => {
  it('is the committed output of the current zod schema', () => {
    const committed = readFileSync(join(ROOT, 'rotation.schema.json'), 'utf8');
    expect(committed === configJsonSchemaText(), 'rotation.schema.json is stale: run `npm run schema`').toBe(true);
  });

  it('carries types, required fields, bounds and descriptions for editors', () => {
    const schema = configJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { properties?: Record<string, Record<string, unknown>>; items?: unknown }>;
    };
    expect(schema.required).toEqual(['datagrid', 'targets']);
    expect(schema.additionalProperties).toBe(false);
    const target = schema.properties.targets!.items as {
      required: string[];
      properties: Record<string, Record<string, unknown>>;
    };
    expect(target.required).toEqual(['serverId', 'secretId']);
    expect(target.properties.verifyTimeoutSeconds).toMatchObject({ type: 'integer', minimum: 0, maximum: 900 });
    expect(schema.properties.datagrid!.properties!.maxAttempts).toMatchObject({ minimum: 1, maximum: 10, default: 4 });
    for (const [name, field] of Object.entries(target.properties)) {
      expect(field.description, `targets[].${name} has a description`).toEqual(expect.any(String));
    }
  });
});
