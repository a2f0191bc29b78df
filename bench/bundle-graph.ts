/**
 * Which files of a built bundle directory its entry file reaches through relative imports: those loaded with it
 * (its static import graph, what Lambda's init phase loads) and those loaded on demand (dynamic import()s).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { BUNDLE_FILE_NAME } from '../scripts/esbuild-options.ts';

export interface BundleImports {
  /** Loaded with the entry file (its static import graph), relative to the directory, entry excluded. */
  static: string[];
  /** Loaded on demand: the targets of dynamic import()s anywhere in the graph, and what they import statically. */
  dynamic: string[];
}

// esbuild's minified output: `import{a as b}from"./chunks/x.mjs"`, `import"./x.mjs"`, `export{a}from"./x.mjs"`,
// and `import("./chunks/x.mjs")` for a dynamic import.
const RELATIVE_IMPORT = /\b(from|import)\s*(\()?\s*"(\.\.?\/[^"]+\.mjs)"/g;

function importsOf(dir: string, file: string): { static: string[]; dynamic: string[] } {
  const text = readFileSync(join(dir, file), 'utf8');
  const found = { static: [] as string[], dynamic: [] as string[] };
  for (const match of text.matchAll(RELATIVE_IMPORT)) {
    const target = normalize(relative(dir, join(dir, dirname(file), match[3]!)));
    (match[2] ? found.dynamic : found.static).push(target);
  }
  return found;
}

/** `entry` and the results are paths relative to `dir`. */
export function bundleImports(dir: string, entry = BUNDLE_FILE_NAME): BundleImports {
  const loaded = new Set<string>();
  const onDemand = new Set<string>();
  const visit = (file: string, dynamic: boolean): void => {
    if (loaded.has(file) || (dynamic && onDemand.has(file))) return;
    (dynamic ? onDemand : loaded).add(file);
    const found = importsOf(dir, file);
    for (const target of found.static) visit(target, dynamic);
    for (const target of found.dynamic) visit(target, true);
  };
  visit(entry, false);
  loaded.delete(entry);
  return { static: [...loaded].sort(), dynamic: [...onDemand].filter((f) => !loaded.has(f)).sort() };
}
