/**
 * From a secret to the Authorization value Datagrid stores for an MCP server. Pure: no SDK, no I/O.
 * Every message names the secret id, the JSON key, a position or a length, and never the value: the value is a
 * credential, and so is any part of it.
 */
import { MAX_AUTHORIZATION_LENGTH } from '../constants.ts';
import { InvalidSecretValueError } from '../errors.ts';
import type { SecretValue } from '../types/index.ts';
import { MIN_SCRUB_LENGTH } from './redactor.ts';

const PLACEHOLDER = '{{secret}}';

/** The credential inside a secret: the whole SecretString, or the string field `jsonKey` of a JSON object. */
export function extractCredential(secret: SecretValue, jsonKey: string | undefined): string {
  const credential = jsonKey === undefined ? secret.value : jsonField(secret, jsonKey);
  // An empty credential would still build a non-empty header ("Bearer "), which silently de-authorises the server;
  // the rotator never clears a target.
  if (credential.trim() === '') {
    const where = jsonKey === undefined ? 'the secret value' : `JSON field ${JSON.stringify(jsonKey)}`;
    throw new InvalidSecretValueError(
      `secret ${secret.secretId}: ${where} is ${credential === '' ? 'empty' : 'only whitespace'}`,
    );
  }
  // A shorter value would match ordinary text everywhere, so the redactor cannot keep it out of what we write.
  if (credential.length < MIN_SCRUB_LENGTH) {
    const where = jsonKey === undefined ? 'the secret value' : `JSON field ${JSON.stringify(jsonKey)}`;
    throw new InvalidSecretValueError(
      `secret ${secret.secretId}: ${where} is ${credential.length} character${credential.length === 1 ? '' : 's'} long; at least ${MIN_SCRUB_LENGTH} are required`,
    );
  }
  return credential;
}

/**
 * Every form of a target's credential that must never be written out: the whole secret string, the bare credential
 * (an upstream may echo it alone) and the Authorization value, as far as each can be built from the secret.
 */
export function credentialForms(secret: SecretValue, target: { jsonKey?: string; headerTemplate: string }): string[] {
  const forms = [secret.value];
  try {
    const credential = extractCredential(secret, target.jsonKey);
    forms.push(credential, buildAuthorization(target.headerTemplate, credential));
  } catch {
    // An unusable secret fails its target with a message that names no value; the whole string is covered above.
  }
  return forms;
}

function jsonField(secret: SecretValue, jsonKey: string): string {
  const key = JSON.stringify(jsonKey);
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret.value);
  } catch {
    // The parser's message quotes the text around the error, which is the secret itself.
    throw new InvalidSecretValueError(`secret ${secret.secretId}: secret is not a JSON object (jsonKey ${key})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidSecretValueError(`secret ${secret.secretId}: secret is not a JSON object (jsonKey ${key})`);
  }
  // Own properties only: "constructor" or "__proto__" must not resolve to something inherited.
  if (!Object.hasOwn(parsed, jsonKey)) {
    throw new InvalidSecretValueError(`secret ${secret.secretId}: JSON field ${key} is missing`);
  }
  const field: unknown = (parsed as Record<string, unknown>)[jsonKey];
  if (typeof field !== 'string') {
    const found = field === null ? 'null' : Array.isArray(field) ? 'array' : typeof field;
    throw new InvalidSecretValueError(`secret ${secret.secretId}: JSON field ${key} is not a string (found ${found})`);
  }
  return field;
}

/**
 * The template with its single `{{secret}}` replaced by the credential. Split/join rather than String.replace:
 * replace would expand `$&`, `$1` or `$$` inside the credential.
 */
export function buildAuthorization(template: string, credential: string): string {
  const parts = template.split(PLACEHOLDER);
  if (parts.length !== 2) {
    throw new InvalidSecretValueError(
      `header template must contain ${PLACEHOLDER} exactly once (found ${parts.length - 1})`,
    );
  }
  return `${parts[0]}${credential}${parts[1]}`;
}

/**
 * The value must be able to travel as an HTTP header (docs/events-and-results.md, step 1 of a rotation). Non-empty
 * and not only whitespace, at most MAX_AUTHORIZATION_LENGTH characters, no control character (U+0000-U+001F,
 * U+007F: CR/LF would split the header, NUL truncates it) and nothing above U+00FF (a header value is bytes; undici
 * and Node reject wider characters).
 * Positions are 0-based UTF-16 indexes.
 */
export function validateAuthorization(value: string): void {
  if (value.length === 0) throw new InvalidSecretValueError('Authorization value is empty');
  if (value.length > MAX_AUTHORIZATION_LENGTH) {
    throw new InvalidSecretValueError(
      `Authorization value is ${value.length} characters long; at most ${MAX_AUTHORIZATION_LENGTH} are allowed`,
    );
  }
  for (let index = 0; index < value.length; index++) {
    const unit = value.charCodeAt(index);
    if (unit <= 0x1f || unit === 0x7f) {
      throw new InvalidSecretValueError(
        `Authorization value contains a control character (${codePoint(unit)}) at position ${index}`,
      );
    }
    if (unit > 0xff) {
      throw new InvalidSecretValueError(
        `Authorization value contains a character above U+00FF (${codePoint(value.codePointAt(index) ?? unit)}) at position ${index}; HTTP header values are Latin-1`,
      );
    }
  }
  if (value.trim() === '') {
    throw new InvalidSecretValueError(`Authorization value is only whitespace (${value.length} characters)`);
  }
}

function codePoint(point: number): string {
  return `U+${point.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Extract, build and validate: the Authorization value for one target, or InvalidSecretValueError. */
export function authorizationFor(secret: SecretValue, target: { jsonKey?: string; headerTemplate: string }): string {
  const credential = extractCredential(secret, target.jsonKey);
  try {
    const value = buildAuthorization(target.headerTemplate, credential);
    validateAuthorization(value);
    return value;
  } catch (error) {
    if (error instanceof InvalidSecretValueError) {
      throw new InvalidSecretValueError(`secret ${secret.secretId}: ${error.message}`);
    }
    throw error;
  }
}
