/**
 * Knows every secret value, Authorization value and API key a run has touched, and scrubs them from any text or
 * object before it reaches a log line, a result, an event or an error. Defence in depth: messages are built without
 * values in the first place, but a library error or a Datagrid error body could still echo one.
 */
export const REDACTED = '[REDACTED]';

/**
 * Shorter values are not scrubbed: they would match ordinary text everywhere and protect nothing. A credential
 * shorter than this is therefore refused (credential.ts), so that every credential can be scrubbed.
 */
export const MIN_SCRUB_LENGTH = 4;

/**
 * Values are indexed by their first MIN_SCRUB_LENGTH characters, so a scrub costs one map lookup per character of the
 * text however many values are known. (One regular expression with a branch per value costs a compile after every
 * `add` and a try of every branch at every position: a run of 600 targets adds a value per target and logs a line
 * per target, which made scrubbing the largest CPU cost of the run.)
 */
export class Redactor {
  /** By prefix: the values starting with it, longest first, so a value containing another is removed whole. */
  private readonly byPrefix = new Map<string, string[]>();
  private readonly values = new Set<string>();

  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SCRUB_LENGTH) return;
    this.index(value);
    // A JSON-encoded copy of a value with quotes or backslashes looks different; scrub that form too.
    const encoded = JSON.stringify(value).slice(1, -1);
    if (encoded !== value) this.index(encoded);
  }

  /** Leftmost, then longest match first, left to right, as an alternation of the values sorted by length would. */
  scrub(text: string): string {
    if (this.values.size === 0 || text.length < MIN_SCRUB_LENGTH) return text;
    let out = '';
    let copiedUpTo = 0;
    let i = 0;
    const lastStart = text.length - MIN_SCRUB_LENGTH;
    while (i <= lastStart) {
      const candidates = this.byPrefix.get(text.slice(i, i + MIN_SCRUB_LENGTH));
      const match = candidates?.find((value) => text.startsWith(value, i));
      if (match === undefined) {
        i += 1;
        continue;
      }
      out += text.slice(copiedUpTo, i) + REDACTED;
      i += match.length;
      copiedUpTo = i;
    }
    return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
  }

  scrubDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    return this.walk(value, new WeakSet()) as T;
  }

  private index(value: string): void {
    if (this.values.has(value)) return;
    this.values.add(value);
    const prefix = value.slice(0, MIN_SCRUB_LENGTH);
    const list = this.byPrefix.get(prefix);
    if (list === undefined) {
      this.byPrefix.set(prefix, [value]);
      return;
    }
    const at = list.findIndex((other) => other.length < value.length);
    list.splice(at === -1 ? list.length : at, 0, value);
  }

  private walk(value: unknown, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, seen));
    if (value instanceof Error) {
      return { name: value.name, message: this.scrub(value.message), code: (value as { code?: unknown }).code };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.walk(v, seen);
    return out;
  }
}
