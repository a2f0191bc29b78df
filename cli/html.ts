/**
 * HTML built from text that may be hostile (server names and messages come from Datagrid): the `safeHtml` tag
 * escapes every interpolated value unless it is markup the tag itself produced, so forgetting to escape is not
 * possible. (Not named `html`: Prettier would reformat such templates as HTML, whitespace inside <pre> included.)
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escaped for both element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Markup produced by `safeHtml`: interpolated as is. */
export class SafeHtml {
  readonly markup: string;
  constructor(markup: string) {
    this.markup = markup;
  }
  toString(): string {
    return this.markup;
  }
}

export type HtmlValue = SafeHtml | string | number | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === undefined) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** `safeHtml\`<td>${name}</td>\``: `name` is escaped; nested `safeHtml` results and arrays of them are not. */
export function safeHtml(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, s, i) => out + render(values[i - 1]) + s));
}
