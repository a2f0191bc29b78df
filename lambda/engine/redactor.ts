/**
 * Knows every secret value, Authorization value and API key a run has touched, and scrubs them from any text or
 * object before it reaches a log line, a result, an event or an error. Defence in depth: messages are built without
 * values in the first place, but a library error or a Datagrid error body could still echo one.
 */
export const REDACTED = '[REDACTED]';

/** Shorter values are not scrubbed: they would match ordinary text everywhere and protect nothing. */
const MIN_SCRUB_LENGTH = 4;

export class Redactor {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SCRUB_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    // A JSON-encoded copy of a value with quotes or backslashes looks different; scrub that form too.
    const encoded = JSON.stringify(value).slice(1, -1);
    if (encoded !== value) this.values.add(encoded);
    this.pattern = undefined;
  }

  scrub(text: string): string {
    if (this.values.size === 0) return text;
    // Longest first, so a value containing another is removed whole.
    this.pattern ??= new RegExp(
      [...this.values]
        .sort((a, b) => b.length - a.length)
        .map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, REDACTED);
  }

  scrubDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    return this.walk(value, new WeakSet()) as T;
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
