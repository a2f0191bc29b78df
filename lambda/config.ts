/**
 * rotation.config.json: its zod schema, and its resolution into a RotatorConfig (target value,
 * else `defaults`, else the built-in default). An invalid file fails before any call is made, with one
 * `<path>: <what was expected>` line per problem. rotation.schema.json is generated from this schema
 * (lambda/config-json-schema.ts), so editors and the Lambda agree on what is valid.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as z from 'zod/mini';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DATAGRID,
  DEFAULT_TARGET_SETTINGS,
  DELIVERY_MODES,
  LAMBDA_MAX_TIMEOUT_SECONDS,
} from './constants.ts';
import { ConfigError, describeCause } from './errors.ts';
import { isRecord } from './is-record.ts';
import type { ResolvedTarget, RotatorConfig } from './types/config.ts';

// ---------- field schemas ----------

const SECRET_PLACEHOLDER = '{{secret}}';
const WITHOUT_SURROUNDING_WHITESPACE = /^(?:\S(?:[\s\S]*\S)?)?$/;
// The request syntax `teamspaceId/serverId` relies on ids never containing a slash, and the state table's key
// `target#<teamspaceId>#<serverId>` on ids never containing "#" (else two targets could share one key).
const WITHOUT_SEPARATORS = /^[^/#]*$/;
// What Secrets Manager allows in a secret name. A `*` or `?` would become an IAM wildcard in the deployed grant.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
// CR/LF would split the Authorization header; NUL and other C0 controls are rejected by HTTP clients mid-run.
// eslint-disable-next-line no-control-regex
const WITHOUT_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

function id(description: string) {
  return z
    .string()
    .check(
      z.minLength(1, 'expected a non-empty string'),
      z.regex(WITHOUT_SURROUNDING_WHITESPACE, 'must not start or end with whitespace'),
      z.describe(description),
    );
}

function pathSegmentId(description: string) {
  return id(description).check(z.regex(WITHOUT_SEPARATORS, 'must not contain "/" or "#"'));
}

function secretId(description: string) {
  return id(description).check(
    z.refine(
      // Empty and whitespace-wrapped ids are reported by id() already.
      (value) => value.trim() !== value || value === '' || SECRET_NAME.test(value) || SECRET_ARN.test(value),
      'expected a Secrets Manager secret name (letters, digits and /_+=.@- only) or secret ARN; wildcards (* ?) are not allowed',
    ),
  );
}

function integer(min: number, max: number, description: string, builtIn: number) {
  const expected = `expected an integer from ${min} to ${max}`;
  return z
    .int({ error: expected })
    .check(z.minimum(min, expected), z.maximum(max, expected), z.meta({ description, default: builtIn }));
}

function statusList(description: string, builtIn: readonly string[]) {
  return z
    .array(z.string().check(z.minLength(1, 'expected a non-empty string')))
    .check(z.meta({ description, default: [...builtIn] }));
}

export const isLoopbackHost = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);

const baseUrl = z.url({ protocol: /^https?$/, error: 'expected an absolute http(s) URL' }).check(
  // Datagrid's API key travels in every request: plain http only to a local emulator.
  z.refine((value) => {
    const url = URL.parse(value);
    return url === null || url.protocol === 'https:' || isLoopbackHost(url.hostname);
  }, 'https required unless the host is loopback (127.0.0.0/8, ::1, localhost)'),
  // The configuration ships inside the Lambda asset: a credential in the URL would be readable by anyone who can
  // read the function's code. The API key comes from apiKeySecretId.
  z.refine((value) => {
    const url = URL.parse(value);
    return url === null || (url.username === '' && url.password === '');
  }, 'must not contain user info (user:password@); the API key is read from datagrid.apiKeySecretId'),
  // Request paths are appended to the base URL; a query or fragment would swallow them.
  z.refine((value) => {
    const url = URL.parse(value);
    return url === null || (url.search === '' && url.hash === '');
  }, 'must not have a query or fragment'),
  z.meta({
    description: 'Datagrid API base URL. https is required unless the host is loopback (127.0.0.0/8, ::1, localhost).',
    default: DEFAULT_DATAGRID.baseUrl,
  }),
);

const headerTemplate = z.string().check(
  z.regex(/\{\{secret\}\}/, `must contain ${SECRET_PLACEHOLDER} exactly once`),
  z.refine((value) => value.split(SECRET_PLACEHOLDER).length <= 2, `must contain ${SECRET_PLACEHOLDER} exactly once`),
  z.regex(WITHOUT_CONTROL_CHARACTERS, 'must not contain control characters (CR, LF, NUL, ...)'),
  z.meta({
    description:
      'Authorization value sent to Datagrid; {{secret}} (exactly once) is replaced by the credential. ' +
      'Use "{{secret}}" when the secret holds the whole header value.',
    default: DEFAULT_TARGET_SETTINGS.headerTemplate,
  }),
);

/** Every setting `defaults` may hold. The identity fields (serverId, teamspaceId, secretId) are per target only. */
const targetSettingsShape = {
  jsonKey: z.optional(id('The secret is a JSON object and this field holds the credential.')),
  headerTemplate: z.optional(headerTemplate),
  healthyStatuses: z.optional(
    statusList('Server statuses that mean the re-sync worked.', DEFAULT_TARGET_SETTINGS.healthyStatuses).check(
      z.minLength(1, 'expected at least one status'),
    ),
  ),
  pendingStatuses: z.optional(
    statusList('Server statuses that mean "still syncing, poll again".', DEFAULT_TARGET_SETTINGS.pendingStatuses),
  ),
  minToolCount: z.optional(
    integer(0, 100_000, 'metadata.tool_count must reach this.', DEFAULT_TARGET_SETTINGS.minToolCount),
  ),
  verifyTimeoutSeconds: z.optional(
    integer(
      0,
      LAMBDA_MAX_TIMEOUT_SECONDS,
      'How long to poll while the status is pending.',
      DEFAULT_TARGET_SETTINGS.verifyTimeoutSeconds,
    ),
  ),
  rollbackOnFailure: z.optional(
    z.boolean().check(
      z.meta({
        description: 'Restore the previous credential when verification fails (never on incident runs).',
        default: DEFAULT_TARGET_SETTINGS.rollbackOnFailure,
      }),
    ),
  ),
  maxCredentialAgeDays: z.optional(
    integer(1, 3650, 'Audit threshold for the credential age.', DEFAULT_TARGET_SETTINGS.maxCredentialAgeDays),
  ),
  // Delivery and pre-flight (docs: choosing a delivery mode, pre-flight).
  delivery: z.optional(
    z.enum(DELIVERY_MODES, { error: `expected one of ${DELIVERY_MODES.map((m) => `"${m}"`).join(', ')}` }).check(
      z.meta({
        description:
          'How the credential reaches Datagrid: "authorization" PATCHes the value; "secretReference" stores it as a ' +
          'Datagrid secret and PATCHes authorization_secret_id, so the previous secret is one PATCH away.',
        default: DEFAULT_TARGET_SETTINGS.delivery,
      }),
    ),
  ),
  secretNamePrefix: z.optional(
    z.string().check(
      z.minLength(1, 'expected a non-empty string'),
      z.maxLength(100, 'at most 100 characters'),
      z.regex(WITHOUT_CONTROL_CHARACTERS, 'must not contain control characters (CR, LF, NUL, ...)'),
      z.meta({
        description:
          'Prefix of the Datagrid secrets the rotator creates (delivery "secretReference"); it deletes only secrets ' +
          'whose name starts with it.',
        default: DEFAULT_TARGET_SETTINGS.secretNamePrefix,
      }),
    ),
  ),
  preflight: z.optional(
    z.boolean().check(
      z.meta({
        description:
          "Before anything is sent to Datagrid, list the MCP server's tools at its base_url with the new credential.",
        default: DEFAULT_TARGET_SETTINGS.preflight,
      }),
    ),
  ),
  preflightTimeoutSeconds: z.optional(
    integer(1, 120, 'Time allowed for the whole pre-flight.', DEFAULT_TARGET_SETTINGS.preflightTimeoutSeconds),
  ),
};

const targetShape = {
  serverId: pathSegmentId('Datagrid MCP server id.'),
  teamspaceId: z.optional(pathSegmentId('Datagrid teamspace, sent as the Datagrid-Teamspace header.')),
  secretId: secretId('Secrets Manager name or ARN of the secret holding the credential.'),
  ...targetSettingsShape,
};

const datagridShape = {
  baseUrl: z.optional(baseUrl),
  apiKeySecretId: secretId('Secrets Manager name or ARN of the secret holding the Datagrid API key.'),
  apiKeyJsonKey: z.optional(id('The API key secret is a JSON object and this field holds the key.')),
  requestTimeoutMs: z.optional(
    integer(100, 300_000, 'Timeout of each HTTP request, in ms.', DEFAULT_DATAGRID.requestTimeoutMs),
  ),
  maxAttempts: z.optional(
    integer(1, 10, 'Attempts per logical request, retries included.', DEFAULT_DATAGRID.maxAttempts),
  ),
};

const concurrencyShape = {
  global: z.optional(integer(1, 100, 'Targets rotated at the same time.', DEFAULT_CONCURRENCY.global)),
  perTeamspace: z.optional(
    integer(1, 100, 'Targets of one teamspace rotated at the same time.', DEFAULT_CONCURRENCY.perTeamspace),
  ),
  haltAfterFailures: z.optional(
    integer(
      0,
      1000,
      'Stop starting rotations when the first this-many targets to finish all failed; 0 turns this off.',
      DEFAULT_CONCURRENCY.haltAfterFailures,
    ),
  ),
};

const rootShape = {
  $schema: z.optional(z.string().check(z.describe('JSON Schema of this file, for editors.'))),
  datagrid: z.strictObject(datagridShape).check(z.describe('How to reach Datagrid and where its API key is.')),
  concurrency: z.optional(z.strictObject(concurrencyShape).check(z.describe('Parallelism and halting of a run.'))),
  defaults: z.optional(
    z.strictObject(targetSettingsShape).check(z.describe('Settings every target inherits unless it sets its own.')),
  ),
  targets: z
    .array(z.strictObject(targetShape).check(z.describe('One MCP server and the secret holding its credential.')))
    .check(
      z.minLength(1, 'expected at least one target'),
      z.describe('MCP servers to rotate; (teamspaceId, serverId) unique.'),
    ),
};

export const rotationConfigSchema = z.strictObject(rootShape).check(
  z.meta({
    title: 'datagrid-mcp-rotator configuration',
    description: 'rotation.config.json: which Datagrid MCP servers to rotate, and how.',
  }),
);

/** The file as written (after validation, before resolution). */
export type RotationConfigFile = z.output<typeof rotationConfigSchema>;

// ---------- messages ----------

const ARTICLE_TYPES: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** Messages for issues no field schema words itself: wrong JSON types and missing fields. Never echoes a value. */
const fallbackMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type') return undefined;
  const expected = ARTICLE_TYPES[issue.expected] ?? issue.expected;
  return issue.input === undefined
    ? `required: expected ${expected}`
    : `expected ${expected}, got ${kindOf(issue.input)}`;
};

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

const IDENTITY_KEYS = new Set(['serverId', 'teamspaceId', 'secretId']);
const KNOWN_KEYS: Record<string, string[]> = {
  datagrid: Object.keys(datagridShape),
  concurrency: Object.keys(concurrencyShape),
  defaults: Object.keys(targetSettingsShape),
  targets: Object.keys(targetShape),
};

function unknownKeyMessage(objectPath: readonly PropertyKey[], key: string): string {
  const section = objectPath[0];
  if (section === 'defaults' && IDENTITY_KEYS.has(key)) return 'not allowed in defaults: set it on each target';
  const known = typeof section === 'string' ? KNOWN_KEYS[section] : Object.keys(rootShape);
  const meant = known?.find((name) => name.toLowerCase() === key.toLowerCase());
  return meant === undefined ? 'unknown key' : `unknown key (did you mean "${meant}"?)`;
}

function issueLines(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${formatPath([...issue.path, key])}: ${unknownKeyMessage(issue.path, key)}`)
      : [`${formatPath(issue.path)}: ${issue.message}`],
  );
}

// ---------- rules across fields ----------
// Checked on the raw input, so they are reported alongside field errors rather than after they are fixed.

/** A list of strings; undefined when absent; null when present but invalid (already reported by the schema). */
function statusesOf(value: unknown): readonly string[] | undefined | null {
  if (value === undefined) return undefined;
  return Array.isArray(value) && value.every((s) => typeof s === 'string') ? value : null;
}

type StatusField = 'healthyStatuses' | 'pendingStatuses';
/** The lists a level inherits when it does not set its own, and where they come from (for the message). */
type InheritedStatuses = Record<StatusField, { statuses: readonly string[]; from: string }>;

const BUILT_IN_STATUSES: InheritedStatuses = {
  healthyStatuses: { statuses: DEFAULT_TARGET_SETTINGS.healthyStatuses, from: 'built-in default' },
  pendingStatuses: { statuses: DEFAULT_TARGET_SETTINGS.pendingStatuses, from: 'built-in default' },
};

function inheritFromDefaults(defaults: Record<string, unknown>): InheritedStatuses {
  const inherit = (field: StatusField) => {
    const own = statusesOf(defaults[field]);
    return own ? { statuses: own, from: 'from defaults' } : BUILT_IN_STATUSES[field];
  };
  return { healthyStatuses: inherit('healthyStatuses'), pendingStatuses: inherit('pendingStatuses') };
}

/** A status both healthy and pending would make verification ambiguous; reported where the user set a list. */
function overlapIssue(
  where: string,
  settings: Record<string, unknown>,
  inherited: InheritedStatuses,
): string | undefined {
  const healthy = statusesOf(settings.healthyStatuses);
  const pending = statusesOf(settings.pendingStatuses);
  if (healthy === null || pending === null || (healthy === undefined && pending === undefined)) return undefined;
  const healthyList = healthy ?? inherited.healthyStatuses.statuses;
  const shared = (pending ?? inherited.pendingStatuses.statuses).filter((status) => healthyList.includes(status));
  if (shared.length === 0) return undefined;
  // Name the list set at this level; the other one may be inherited, and the message says from where.
  const field: StatusField = pending !== undefined ? 'pendingStatuses' : 'healthyStatuses';
  const other: StatusField = field === 'pendingStatuses' ? 'healthyStatuses' : 'pendingStatuses';
  const otherIsInherited = (other === 'healthyStatuses' ? healthy : pending) === undefined;
  const from = otherIsInherited ? ` (${inherited[other].from})` : '';
  return `${where}.${field}: must not overlap ${other}${from}: ${shared.map((s) => JSON.stringify(s)).join(', ')}`;
}

/** A target's key and its name in requests: `teamspaceId/serverId`, or `serverId` when there is no teamspace. */
export function targetKey(teamspaceId: string | undefined, serverId: string): string {
  return teamspaceId ? `${teamspaceId}/${serverId}` : serverId;
}

function crossFieldIssues(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  const issues: string[] = [];
  let inherited = BUILT_IN_STATUSES;
  if (isRecord(raw.defaults)) {
    const defaultsIssue = overlapIssue('defaults', raw.defaults, BUILT_IN_STATUSES);
    if (defaultsIssue !== undefined) issues.push(defaultsIssue);
    inherited = inheritFromDefaults(raw.defaults);
  }
  if (!Array.isArray(raw.targets)) return issues;
  const firstIndexByKey = new Map<string, number>();
  raw.targets.forEach((target: unknown, index) => {
    if (!isRecord(target)) return;
    const targetIssue = overlapIssue(`targets[${index}]`, target, inherited);
    if (targetIssue !== undefined) issues.push(targetIssue);
    if (typeof target.serverId !== 'string') return;
    const key = targetKey(typeof target.teamspaceId === 'string' ? target.teamspaceId : undefined, target.serverId);
    const first = firstIndexByKey.get(key);
    if (first === undefined) firstIndexByKey.set(key, index);
    else issues.push(`targets[${index}]: duplicate of targets[${first}] (${key})`);
  });
  return issues;
}

// ---------- resolution ----------

type TargetSettings = NonNullable<RotationConfigFile['defaults']>;

function resolveTarget(target: RotationConfigFile['targets'][number], defaults: TargetSettings): ResolvedTarget {
  const builtIn = DEFAULT_TARGET_SETTINGS;
  return {
    key: targetKey(target.teamspaceId, target.serverId),
    serverId: target.serverId,
    teamspaceId: target.teamspaceId,
    secretId: target.secretId,
    jsonKey: target.jsonKey ?? defaults.jsonKey,
    headerTemplate: target.headerTemplate ?? defaults.headerTemplate ?? builtIn.headerTemplate,
    healthyStatuses: [...(target.healthyStatuses ?? defaults.healthyStatuses ?? builtIn.healthyStatuses)],
    pendingStatuses: [...(target.pendingStatuses ?? defaults.pendingStatuses ?? builtIn.pendingStatuses)],
    minToolCount: target.minToolCount ?? defaults.minToolCount ?? builtIn.minToolCount,
    verifyTimeoutSeconds: target.verifyTimeoutSeconds ?? defaults.verifyTimeoutSeconds ?? builtIn.verifyTimeoutSeconds,
    rollbackOnFailure: target.rollbackOnFailure ?? defaults.rollbackOnFailure ?? builtIn.rollbackOnFailure,
    maxCredentialAgeDays: target.maxCredentialAgeDays ?? defaults.maxCredentialAgeDays ?? builtIn.maxCredentialAgeDays,
    delivery: target.delivery ?? defaults.delivery ?? builtIn.delivery,
    secretNamePrefix: target.secretNamePrefix ?? defaults.secretNamePrefix ?? builtIn.secretNamePrefix,
    preflight: target.preflight ?? defaults.preflight ?? builtIn.preflight,
    preflightTimeoutSeconds:
      target.preflightTimeoutSeconds ?? defaults.preflightTimeoutSeconds ?? builtIn.preflightTimeoutSeconds,
  };
}

function resolveConfig(file: RotationConfigFile): RotatorConfig {
  const { datagrid, concurrency = {}, defaults = {} } = file;
  return {
    datagrid: {
      // new URL() also lower-cases the host; the trailing slash goes so request paths can be appended as `/...`.
      baseUrl: new URL(datagrid.baseUrl ?? DEFAULT_DATAGRID.baseUrl).href.replace(/\/+$/, ''),
      apiKeySecretId: datagrid.apiKeySecretId,
      apiKeyJsonKey: datagrid.apiKeyJsonKey ?? DEFAULT_DATAGRID.apiKeyJsonKey,
      requestTimeoutMs: datagrid.requestTimeoutMs ?? DEFAULT_DATAGRID.requestTimeoutMs,
      maxAttempts: datagrid.maxAttempts ?? DEFAULT_DATAGRID.maxAttempts,
    },
    concurrency: {
      global: concurrency.global ?? DEFAULT_CONCURRENCY.global,
      perTeamspace: concurrency.perTeamspace ?? DEFAULT_CONCURRENCY.perTeamspace,
      haltAfterFailures: concurrency.haltAfterFailures ?? DEFAULT_CONCURRENCY.haltAfterFailures,
    },
    targets: file.targets.map((target) => resolveTarget(target, defaults)),
  };
}

// ---------- entry points ----------

function configError(file: string | undefined, issues: string[]): ConfigError {
  const header = file === undefined ? 'Invalid rotation config:' : `Invalid rotation config ${file}:`;
  return new ConfigError([header, ...issues].join('\n'), issues);
}

/** Validate a parsed rotation.config.json and resolve every setting. Throws ConfigError listing every problem. */
export function parseConfig(raw: unknown): RotatorConfig {
  const parsed = rotationConfigSchema.safeParse(raw, { error: fallbackMessage });
  const issues = [...new Set([...(parsed.success ? [] : issueLines(parsed.error.issues)), ...crossFieldIssues(raw)])];
  if (!parsed.success || issues.length > 0) throw configError(undefined, issues);
  return resolveConfig(parsed.data);
}

function readError(file: string, error: unknown): ConfigError {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') return configError(file, ['file not found']);
  if (code === 'EISDIR') return configError(file, ['is a directory, expected a JSON file']);
  return configError(file, [`cannot read the file: ${describeCause(error)}`]);
}

function parseConfigText(file: string, text: string): RotatorConfig {
  let raw: unknown;
  try {
    // Editors on Windows may save a byte-order mark, which JSON.parse rejects.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    // V8 quotes the text around some errors; keep its words and position, not the file's content.
    const message = error instanceof Error ? error.message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '') : '';
    throw configError(file, [`invalid JSON: ${message}`]);
  }
  try {
    return parseConfig(raw);
  } catch (error) {
    throw error instanceof ConfigError ? configError(file, error.issues) : error;
  }
}

/** Read, validate and resolve a configuration file; every failure is a ConfigError naming the file. */
export async function loadConfigFile(path: string): Promise<RotatorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw readError(path, error);
  }
  return parseConfigText(path, text);
}

/** loadConfigFile for synchronous callers (the CDK app validates the file at synth time). */
export function loadConfigFileSync(path: string): RotatorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw readError(path, error);
  }
  return parseConfigText(path, text);
}
