/**
 * The repository's own text files, for the docs tests: which files a user of the repository reads (docs, READMEs,
 * code comments), and whether one of them cites a document the repository does not hold.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Never the repository's own text: dependencies, build output, generated files, the Python tools. */
const NOT_OURS = ['node_modules', '.git', 'dist', 'lib', 'cdk.out', 'coverage', '.tmp', '.venv', '.venv.lock'];

/** Repository-relative paths (with `/`) of the files git tracks or would track (new, not ignored) under `root`. */
export function repositoryFiles(root: string): string[] {
  let listed: string[];
  try {
    listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\0')
      .filter((path) => path !== '');
  } catch {
    // Not a git checkout (an unpacked copy): every file outside what is never the repository's own.
    listed = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (NOT_OURS.includes(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) listed.push(relative(root, path).split(sep).join('/'));
      }
    };
    walk(root);
  }
  return [...new Set(listed)]
    .filter((path) => !path.split('/').some((part) => part === 'node_modules'))
    .filter((path) => existsSync(join(root, path)) && statSync(join(root, path)).isFile())
    .sort();
}

/** The file's text, or undefined for a binary file (one holding a NUL byte). */
export function textOf(file: string): string | undefined {
  const bytes = readFileSync(file);
  return bytes.includes(0) ? undefined : bytes.toString('utf8');
}

const CODE_FILE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;

/** A module specifier (`from '...'`, `import('...')`, `import '...'`): a path in code, not a citation. */
const MODULE_SPECIFIER = /\b(?:from|import)\s*\(?\s*(['"])[^'"\n]*\1/g;

/** A citation of a document users of this repository do not have: the shared folder beside it, or "the contract". */
const OUTSIDE_CITATION = /\.\.\/shared\b|\bcontract\s*§/i;

/**
 * Every line of `text` (the file at repository-relative `path`) that cites a document outside the repository, as
 * `path:line: text`. In code, a module specifier is not a citation; its comments and strings are.
 */
export function outsideCitations(path: string, text: string): string[] {
  const code = CODE_FILE.test(path);
  const found: string[] = [];
  text.split('\n').forEach((line, index) => {
    const prose = code ? line.replace(MODULE_SPECIFIER, '') : line;
    if (OUTSIDE_CITATION.test(prose)) found.push(`${path}:${index + 1}: ${line.trim()}`);
  });
  return found;
}

/** The upper-snake-case string literals of a source file (`'CREDENTIAL_DRIFT'`): the codes it can report. */
export function codeLiterals(source: string): string[] {
  return [...new Set([...source.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((match) => match[1]!))].sort();
}

/** The part of a Markdown page under the `## <title>` heading, up to the next heading of that level or higher. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  if (start === -1) return '';
  const end = lines.findIndex((line, index) => index > start && /^#{1,2}\s/.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}
