/**
 * The zod schema of rotation.config.json: every field, its limits and its message. rotation.schema.json is generated
 * from it (lambda/config/json-schema.ts), so editors and the Lambda agree on what is valid.
 */
import * as z from 'zod/mini';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DATAGRID,
  DEFAULT_TARGET_SETTINGS,
  DELIVERY_MODES,
  LAMBDA_MAX_TIMEOUT_SECONDS,
} from '../constants.ts';

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
export const targetSettingsShape = {
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

export const targetShape = {
  serverId: pathSegmentId('Datagrid MCP server id.'),
  teamspaceId: z.optional(pathSegmentId('Datagrid teamspace, sent as the Datagrid-Teamspace header.')),
  secretId: secretId('Secrets Manager name or ARN of the secret holding the credential.'),
  ...targetSettingsShape,
};

export const datagridShape = {
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

export const concurrencyShape = {
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

export const rootShape = {
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
