/** Just enough Markdown reading for the docs tests: links, GitHub heading anchors, table rows, schema keys. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

export interface MarkdownLink {
  target: string;
  line: number;
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { text: string; line: number }[] {
  const lines: { text: string; line: number }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return;
    }
    if (fence === undefined) lines.push({ text, line: index + 1 });
  });
  return lines;
}

/** Inline and reference-definition link targets, outside code blocks and inline code spans. */
export function extractLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = text.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: match[1] ?? '', line });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose);
    if (definition?.[1] !== undefined) links.push({ target: definition[1], line });
  }
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/**
 * What is wrong with the relative links of one Markdown file: a target outside `root`, a file that does not exist, or
 * an `#anchor` that is no heading of the Markdown file it points into. URLs with a scheme (https:, mailto:) are skipped.
 */
export function linkProblems(file: string, root: string): string[] {
  const problems: string[] = [];
  for (const link of extractLinks(readFileSync(file, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue;
    const [pathPart = '', anchor] = link.target.split('#', 2);
    const target = pathPart === '' ? file : resolve(dirname(file), decodeURI(pathPart));
    const where = `line ${link.line}: (${link.target})`;
    if (target !== root && !target.startsWith(root + sep)) {
      problems.push(`${where} leaves the repository`);
    } else if (!existsSync(target)) {
      problems.push(`${where} names a file that does not exist`);
    } else if (anchor && target.endsWith('.md') && statSync(target).isFile()) {
      if (!headingAnchors(readFileSync(target, 'utf8')).has(anchor)) {
        problems.push(`${where} names no heading of ${relative(root, target)}`);
      }
    }
  }
  return problems;
}

/** The first table row whose first cell is exactly `name` in backticks. */
export function tableRowFor(markdown: string, name: string): string | undefined {
  const first = new RegExp(`^\\|\\s*\`${name.replace(/[$.]/g, '\\$&')}\`\\s*\\|`);
  return proseLines(markdown).find(({ text }) => first.test(text))?.text;
}

export interface SchemaKey {
  /** Where the key sits, e.g. `datagrid.baseUrl`, `targets[].secretId`. */
  path: string;
  name: string;
  default?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every property the JSON Schema declares, nested objects and array items included (not the editor's `$schema`). */
export function collectSchemaKeys(schema: unknown, prefix = ''): SchemaKey[] {
  if (!isObject(schema)) return [];
  const keys: SchemaKey[] = [];
  if (isObject(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) {
      if (name === '$schema') continue;
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const key: SchemaKey = { path, name };
      if (isObject(child) && 'default' in child) key.default = child.default;
      keys.push(key, ...collectSchemaKeys(child, path));
    }
  }
  if (isObject(schema.items)) keys.push(...collectSchemaKeys(schema.items, `${prefix}[]`));
  for (const variant of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = schema[variant];
    if (Array.isArray(list)) for (const item of list) keys.push(...collectSchemaKeys(item, prefix));
  }
  return keys;
}
