/**
 * rotation.config.json in, a RotatorConfig out: read the file, validate it (lambda/config/schema.ts and rules.ts)
 * and resolve every setting (lambda/config/resolve.ts). An invalid file fails before any call is made, with one
 * `<path>: <what was expected>` line per problem (lambda/config/messages.ts).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fallbackMessage, issueLines } from './config/messages.ts';
import { resolveConfig } from './config/resolve.ts';
import { crossFieldIssues } from './config/rules.ts';
import { rotationConfigSchema } from './config/schema.ts';
import { ConfigError, describeCause } from './errors.ts';
import type { RotatorConfig } from './types/config.ts';

function configError(file: string | undefined, issues: string[]): ConfigError {
  const header = file === undefined ? 'Invalid rotation config:' : `Invalid rotation config ${file}:`;
  return new ConfigError([header, ...issues].join('\n'), issues);
}

/** Validate a parsed rotation.config.json and resolve every setting. Throws ConfigError listing every problem. */
export function parseConfig(raw: unknown): RotatorConfig {
  const parsed = rotationConfigSchema.safeParse(raw, { error: fallbackMessage });
  const issues = [...new Set([...(parsed.success ? [] : issueLines(parsed.error.issues)), ...crossFieldIssues(raw)])];
  if (!parsed.success || issues.length > 0) throw configError(undefined, issues);
  return resolveConfig(parsed.data);
}

function readError(file: string, error: unknown): ConfigError {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') return configError(file, ['file not found']);
  if (code === 'EISDIR') return configError(file, ['is a directory, expected a JSON file']);
  return configError(file, [`cannot read the file: ${describeCause(error)}`]);
}

function parseConfigText(file: string, text: string): RotatorConfig {
  let raw: unknown;
  try {
    // Editors on Windows may save a byte-order mark, which JSON.parse rejects.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    // V8 quotes the text around some errors; keep its words and position, not the file's content.
    const message = error instanceof Error ? error.message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '') : '';
    throw configError(file, [`invalid JSON: ${message}`]);
  }
  try {
    return parseConfig(raw);
  } catch (error) {
    throw error instanceof ConfigError ? configError(file, error.issues) : error;
  }
}

/** Read, validate and resolve a configuration file; every failure is a ConfigError naming the file. */
export async function loadConfigFile(path: string): Promise<RotatorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw readError(path, error);
  }
  return parseConfigText(path, text);
}

/** loadConfigFile for synchronous callers (the CDK app validates the file at synth time). */
export function loadConfigFileSync(path: string): RotatorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw readError(path, error);
  }
  return parseConfigText(path, text);
}
