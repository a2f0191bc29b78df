/** The configuration's validation messages: one line per problem, naming the path and what was expected. */
import type * as z from 'zod/mini';
import { concurrencyShape, datagridShape, rootShape, targetSettingsShape, targetShape } from './schema.ts';

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
export const fallbackMessage: z.core.$ZodErrorMap = (issue) => {
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

/** One `<path>: <what was expected>` line per issue; never echoes a value. */
export function issueLines(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${formatPath([...issue.path, key])}: ${unknownKeyMessage(issue.path, key)}`)
      : [`${formatPath(issue.path)}: ${issue.message}`],
  );
}
