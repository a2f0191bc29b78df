/**
 * What makes an audit report evidence: where it ran (AWS account and region), with which configuration (a digest
 * of the file), and a digest of the JSON result it was made from, so a filed report can be checked against it.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadConfigFile } from '../lambda/config.ts';
import { UsageError } from './exit.ts';
import { jsonText } from './io.ts';
import type { RunSummary } from '../lambda/types/results.ts';

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export interface AwsIdentity {
  region: string;
  /** Undefined when STS could not be asked; `accountError` says why. */
  account?: string;
  accountError?: string;
}

/** The account of the credentials the audit ran with (GetCallerIdentity needs no IAM permission). */
export async function awsIdentity(region: string | undefined): Promise<AwsIdentity> {
  const sts = new STSClient(region === undefined ? {} : { region });
  try {
    const resolvedRegion = await sts.config.region();
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      return identity.Account === undefined
        ? { region: resolvedRegion, accountError: 'GetCallerIdentity returned no account' }
        : { region: resolvedRegion, account: identity.Account };
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { region: resolvedRegion, accountError: `GetCallerIdentity failed (${reason})` };
    }
  } finally {
    sts.destroy();
  }
}

/** The configuration file's SHA-256, read before the run and checked again after it. */
export class ConfigDigest {
  readonly file: string;
  readonly sha256: string;
  private constructor(file: string, sha256: string) {
    this.file = file;
    this.sha256 = sha256;
  }

  static async of(file: string): Promise<ConfigDigest> {
    try {
      return new ConfigDigest(file, sha256Hex(await readFile(file)));
    } catch (error) {
      // The loader's error names the file and the problem (not found, a directory, ...) as every command does.
      await loadConfigFile(file);
      throw error;
    }
  }

  /** The run read the file on its own: a report must not name a configuration the run did not use. */
  async assertUnchanged(): Promise<void> {
    if (sha256Hex(await readFile(this.file)) !== this.sha256) {
      throw new UsageError(
        `${this.file} changed during the audit: the report would not describe the run; run it again`,
      );
    }
  }
}

export interface JsonEvidence {
  /** Exactly what `audit --format json` prints for the run. */
  text: string;
  /** SHA-256 (hex) of `text` encoded as UTF-8. */
  sha256: string;
}

export function jsonEvidence(summary: RunSummary): JsonEvidence {
  const text = jsonText(summary);
  return { text, sha256: sha256Hex(text) };
}
