/**
 * The four event kinds the handler accepts, turned into one RunRequest. Anything else is
 * rejected here with a RequestError that says what was expected, before anything is read or written.
 */
import * as z from 'zod/mini';
// The one locale by its own path: `z.locales.en` reaches it through a namespace that bundles all ~40 locales
// (264 KB of the Lambda bundle).
import en from 'zod/v4/locales/en.js';
import { DETAIL_TYPE } from './constants.ts';
import { echo } from './echo.ts';
import { RequestError } from './errors.ts';
import type { RunRequest, Trigger } from './types/results.ts';
import { isRecord } from './is-record.ts';

// zod/mini ships without messages; the English locale makes rejections say what was expected.
z.config(en());

const nonEmpty = z.string().check(z.minLength(1), z.maxLength(1024));
// Configured ids never contain "/" or "#"; "/" only separates a teamspace from a server.
const targetEntry = nonEmpty.check(
  z.regex(/^[^/#]+(?:\/[^/#]+)?$/, 'expected "serverId" or "teamspaceId/serverId" (ids never contain "/" or "#")'),
);

const requestFields = {
  action: z.optional(z.enum(['rotate', 'audit'])),
  trigger: z.optional(z.enum(['schedule', 'manual'])),
  targets: z.optional(z.array(targetEntry).check(z.minLength(1), z.maxLength(1000))),
  force: z.optional(z.boolean()),
  dryRun: z.optional(z.boolean()),
  reason: z.optional(nonEmpty),
  incidentId: z.optional(nonEmpty),
  requestedBy: z.optional(nonEmpty),
};
const directRequest = z.strictObject({ ...requestFields, action: z.enum(['rotate', 'audit']) });
const requestedDetail = z.strictObject(requestFields);

/** Longer than any Secrets Manager name (512) or ARN: not a secret this rotator can know. */
const MAX_SECRET_REF_LENGTH = 2048;
const SECRET_EVENT_NAMES = ['RotationSucceeded', 'PutSecretValue', 'UpdateSecretVersionStage'];
const CLOUDTRAIL_DETAIL_TYPES = ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'];

const EXPECTED =
  'expected a direct request {"action":"rotate"|"audit",...}, an EventBridge "MCP Rotation Requested" event, ' +
  'or an aws.secretsmanager event (Secret Label Updated to AWSCURRENT, or a CloudTrail RotationSucceeded / ' +
  'PutSecretValue / UpdateSecretVersionStage record)';

type Fields = z.infer<typeof requestedDetail>;

/** A request of 1000 bad entries is answered with the first few problems, not a megabyte of them. */
const MAX_ISSUES_SHOWN = 5;
/** Longer locale messages quote the input (an unknown key, say); they are replaced by what was wrong. */
const MAX_ISSUE_MESSAGE_LENGTH = 200;

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const shown = issue.keys.slice(0, MAX_ISSUES_SHOWN).map(echo).join(', ');
    const more = issue.keys.length > MAX_ISSUES_SHOWN ? ` and ${issue.keys.length - MAX_ISSUES_SHOWN} more` : '';
    return `unrecognized key${issue.keys.length === 1 ? '' : 's'}: ${shown}${more}`;
  }
  return issue.message.length <= MAX_ISSUE_MESSAGE_LENGTH ? issue.message : `invalid (${issue.code})`;
}

function describeIssues(error: z.core.$ZodError, prefix: string): string {
  const lines = error.issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map(
      (issue) =>
        `${[prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(event)'}: ${issueMessage(issue)}`,
    );
  const more = error.issues.length - lines.length;
  return lines.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
}

function toRequest(fields: Fields): RunRequest {
  const incident = fields.incidentId !== undefined;
  const trigger: Trigger = incident ? 'incident' : (fields.trigger ?? 'manual');
  return {
    action: fields.action ?? 'rotate',
    trigger,
    ...(fields.targets !== undefined && { targets: fields.targets }),
    // An incident rotates even when the version is already applied: the credential itself is presumed leaked.
    force: incident || (fields.force ?? false),
    dryRun: fields.dryRun ?? false,
    ...(fields.reason !== undefined && { reason: fields.reason }),
    ...(fields.incidentId !== undefined && { incidentId: fields.incidentId }),
    ...(fields.requestedBy !== undefined && { requestedBy: fields.requestedBy }),
  };
}

/** The secret a Secrets Manager event says changed, or undefined when the event is not a current-value change. */
function changedSecret(event: Record<string, unknown>): string | undefined {
  const detail = isRecord(event.detail) ? event.detail : {};
  const detailType = event['detail-type'];
  if (detailType === 'Secret Label Updated') {
    if (detail.labelUpdated !== 'AWSCURRENT') return undefined;
    const name = detail.name;
    return typeof name === 'string' && name !== '' && name.length <= MAX_SECRET_REF_LENGTH ? name : undefined;
  }
  if (typeof detailType === 'string' && CLOUDTRAIL_DETAIL_TYPES.includes(detailType)) {
    if (typeof detail.eventName !== 'string' || !SECRET_EVENT_NAMES.includes(detail.eventName)) return undefined;
    const candidates = [
      isRecord(detail.requestParameters) ? detail.requestParameters.secretId : undefined,
      isRecord(detail.additionalEventData) ? detail.additionalEventData.SecretId : undefined,
      isRecord(detail.responseElements) ? detail.responseElements.arn : undefined,
    ];
    return candidates.find((c): c is string => typeof c === 'string' && c !== '' && c.length <= MAX_SECRET_REF_LENGTH);
  }
  return undefined;
}

/** Longer ids are not what EventBridge or Lambda send: they are not trusted as a lease owner. */
const MAX_INVOCATION_ID_LENGTH = 128;

/**
 * What a Lambda retry of this invocation keeps: the EventBridge event's `id`, else the Lambda `awsRequestId` (async
 * retries repeat both). The rotator's leases are owned by it, so a retry takes over what its crashed attempt left.
 * Undefined when there is neither (a local run): the run id then owns the leases.
 */
export function invocationKeyOf(event: unknown, awsRequestId: string | undefined): string | undefined {
  const usable = (id: unknown): id is string =>
    typeof id === 'string' && id !== '' && id.length <= MAX_INVOCATION_ID_LENGTH;
  if (isRecord(event) && ('detail-type' in event || 'source' in event) && usable(event.id)) return `event:${event.id}`;
  return usable(awsRequestId) ? `request:${awsRequestId}` : undefined;
}

export function parseInvocation(event: unknown): RunRequest {
  if (!isRecord(event)) throw new RequestError(`Rejected event: not a JSON object; ${EXPECTED}.`);

  if ('detail-type' in event || 'source' in event) {
    const detailType = event['detail-type'];
    if (event.source === 'aws.secretsmanager') {
      const secretRef = changedSecret(event);
      if (secretRef === undefined) {
        throw new RequestError(
          `Rejected aws.secretsmanager event ${echo(detailType)}: it does not say that a secret's current value changed; ${EXPECTED}.`,
        );
      }
      return { action: 'rotate', trigger: 'secret-changed', force: false, dryRun: false, secretRef };
    }
    if (detailType === DETAIL_TYPE.rotationRequested) {
      const parsed = requestedDetail.safeParse(event.detail ?? {});
      if (!parsed.success)
        throw new RequestError(
          `Rejected "${DETAIL_TYPE.rotationRequested}" event: ${describeIssues(parsed.error, 'detail')}.`,
        );
      return toRequest(parsed.data);
    }
    throw new RequestError(`Rejected EventBridge event ${echo(detailType)} from ${echo(event.source)}; ${EXPECTED}.`);
  }

  const parsed = directRequest.safeParse(event);
  if (!parsed.success) throw new RequestError(`Rejected request: ${describeIssues(parsed.error, '')}; ${EXPECTED}.`);
  return toRequest(parsed.data);
}
