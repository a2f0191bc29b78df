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
  /** Per field name, the values the configuration gives that field (see keepConfigured). */
  private readonly configured = new Map<string, Set<string>>();

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
    return this.walk(value, new WeakSet(), undefined) as T;
  }

  /**
   * A field (`serverId`, `status`, ...) whose whole value is one the configuration gives that field is left as is
   * by scrubDeep, even when a secret happens to equal it: the configuration is not secret, and a credential equal to
   * `active` must not turn every healthy status into [REDACTED]. Everywhere else, text included, it is scrubbed; and
   * a field holding anything else (a status Datagrid made up, say) is scrubbed as usual.
   */
  keepConfigured(fields: Record<string, Iterable<string>>): void {
    for (const [field, values] of Object.entries(fields)) {
      const known = this.configured.get(field) ?? new Set<string>();
      for (const value of values) known.add(value);
      this.configured.set(field, known);
    }
  }

  /**
   * Scrubs an error in place before it is logged or rethrown: its message, its stack (which repeats the message as
   * it was when the error was made) and those of its causes.
   */
  scrubError(error: unknown, seen = new WeakSet<object>()): void {
    if (!(error instanceof Error) || seen.has(error)) return;
    seen.add(error);
    if (this.values.size > 0) {
      rewrite(error, 'message', this.scrub(error.message));
      if (typeof error.stack === 'string') rewrite(error, 'stack', this.scrub(error.stack));
    }
    this.scrubError(error.cause, seen);
    if (error instanceof AggregateError) for (const inner of error.errors) this.scrubError(inner, seen);
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

  private walk(value: unknown, seen: WeakSet<object>, field: string | undefined): unknown {
    if (typeof value === 'string') {
      return field !== undefined && this.configured.get(field)?.has(value) === true ? value : this.scrub(value);
    }
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, seen, undefined));
    if (value instanceof Error) {
      return { name: value.name, message: this.scrub(value.message), code: (value as { code?: unknown }).code };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.walk(v, seen, k);
    return out;
  }
}

/** An own property, so that it also replaces a getter (a DOMException's message has no setter). */
function rewrite(error: Error, key: 'message' | 'stack', value: string): void {
  try {
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
  } catch {
    // A frozen error cannot be rewritten; callers log only name and message, scrubbed again as they are written.
  }
}
