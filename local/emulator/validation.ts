/**
 * Request-body checks of the emulated Datagrid API, with the limits of Datagrid's API reference and the
 * types of the official client (datagrid-ai: src/resources/organization/mcp-servers.ts, secrets.ts).
 * Messages name the field and what was expected, never the value (it may be a credential).
 */

export const LIMITS = {
  name: 255,
  iconUrl: 1024,
  protocolVersion: 32,
  transport: 64,
  authorization: 64_000,
  serversPerTeamspace: 30,
} as const;

export interface ServerFields {
  name?: string;
  base_url?: string;
  transport?: 'http' | null;
  icon_url?: string | null;
  protocol_version?: string | null;
  authorization?: string | null;
  authorization_secret_id?: string | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; param?: string; message: string };

const fail = (param: string | undefined, message: string): { ok: false; param?: string; message: string } =>
  param === undefined ? { ok: false, message } : { ok: false, param, message };

export function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

export function checkServerBody(body: unknown, mode: 'create' | 'update'): Checked<ServerFields> {
  if (!isObject(body)) return fail(undefined, 'request body: expected a JSON object');
  const fields: ServerFields = {};
  if (mode === 'create') {
    for (const required of ['name', 'base_url'] as const) {
      if (body[required] === undefined) return fail(required, `${required}: required`);
    }
  }
  if (body.name !== undefined) {
    const name = body.name;
    if (typeof name !== 'string' || name.trim() === '') return fail('name', 'name: expected a non-empty string');
    if (name.length > LIMITS.name) return fail('name', `name: at most ${LIMITS.name} characters`);
    fields.name = name;
  }
  if (body.base_url !== undefined) {
    const problem = baseUrlProblem(body.base_url);
    if (problem) return fail('base_url', `base_url: ${problem}`);
    fields.base_url = body.base_url as string;
  }
  if (body.transport !== undefined) {
    if (body.transport !== null && body.transport !== 'http') {
      return fail('transport', 'transport: expected "http" or null');
    }
    fields.transport = body.transport;
  }
  for (const [key, max] of [
    ['icon_url', LIMITS.iconUrl],
    ['protocol_version', LIMITS.protocolVersion],
    ['authorization_secret_id', 255],
  ] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (value !== null && typeof value !== 'string') return fail(key, `${key}: expected a string or null`);
    if (typeof value === 'string' && value.length > max) return fail(key, `${key}: at most ${max} characters`);
    fields[key] = value;
  }
  if (body.authorization !== undefined) {
    const problem = authorizationProblem(body.authorization);
    if (problem) return fail('authorization', `authorization: ${problem}`);
    fields.authorization = body.authorization as string | null;
  }
  return { ok: true, value: fields };
}

function authorizationProblem(value: unknown): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'string') return 'expected a string or null';
  if (value === '') return 'expected a non-empty string (send null to clear it)';
  if (value.length > LIMITS.authorization) return `at most ${LIMITS.authorization} characters`;
  // An HTTP header cannot carry these; Datagrid could never use such a value to call the server.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'must not contain control characters (CR, LF, NUL, ...)';
  return undefined;
}

function baseUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a URL string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an absolute URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'expected an https URL (http is allowed only for a loopback host)';
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  const octets = host.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
}

export interface SecretFields {
  name: string;
  value: string;
}

export function checkSecretBody(body: unknown): Checked<SecretFields> {
  if (!isObject(body)) return fail(undefined, 'request body: expected a JSON object');
  if (typeof body.name !== 'string' || body.name.trim() === '') {
    return fail('name', 'name: expected a non-empty string');
  }
  if (body.name.length > LIMITS.name) return fail('name', `name: at most ${LIMITS.name} characters`);
  if (typeof body.value !== 'string' || body.value === '') return fail('value', 'value: expected a non-empty string');
  if (body.value.length > LIMITS.authorization) {
    return fail('value', `value: at most ${LIMITS.authorization} characters`);
  }
  return { ok: true, value: { name: body.name, value: body.value } };
}

export interface PageQuery {
  after?: string;
  before?: string;
  limit: number;
}

export function checkPageQuery(query: URLSearchParams): Checked<PageQuery> {
  const raw = query.get('limit');
  const limit = raw === null ? 20 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return fail('limit', 'limit: expected an integer from 1 to 100');
  }
  const page: PageQuery = { limit };
  const after = query.get('after');
  const before = query.get('before');
  if (after !== null) page.after = after;
  if (before !== null) page.before = before;
  return { ok: true, value: page };
}
