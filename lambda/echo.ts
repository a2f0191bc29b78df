/**
 * Input quoted in a message. Anything a caller or an upstream sent may be huge or hostile: a value is shown whole
 * (JSON-quoted, so control characters cannot forge lines) when short, else only its size. Never cut: a cut could
 * split a secret the redactor would then no longer recognise.
 */
export const MAX_ECHO_LENGTH = 100;

export function echo(value: unknown): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length <= MAX_ECHO_LENGTH + 2 ? quoted : `(a string of ${value.length} characters)`;
  }
  if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return Array.isArray(value) ? '(an array)' : `(${typeof value})`;
}
