/**
 * Everything a run reads before it acts, each in as few calls as the APIs allow: every secret (the Datagrid API key
 * included) in one batched read, every state record in one batched read, and one list call per teamspace. Nothing is
 * written until all of it is in.
 */
import { ApiKeyUnavailableError, RotatorError } from '../errors.ts';
import type {
  DatagridApi,
  DatagridApiFactory,
  ResolvedTarget,
  RotatorConfig,
  SecretValue,
  StateStore,
  SecretSource,
} from '../types/index.ts';
import { credentialForms, extractCredential } from './credential.ts';
import type { Redactor } from './redactor.ts';
import type { TargetInputs } from './rotate-target.ts';
import { loadServers } from './server-directory.ts';
import { statePkFor } from './state-key.ts';

export interface RunInputs {
  /** Undefined when the API key could not be read: every target then carries that error as its server. */
  api: DatagridApi | undefined;
  of(target: ResolvedTarget): TargetInputs;
}

export interface ReadDeps {
  secrets: SecretSource;
  state: StateStore;
  datagrid: DatagridApiFactory;
  redactor: Redactor;
  deadlineAt: number;
}

export async function readRunInputs(
  deps: ReadDeps,
  config: RotatorConfig,
  targets: readonly ResolvedTarget[],
): Promise<RunInputs> {
  const apiKeyId = config.datagrid.apiKeySecretId;
  const reading = deps.secrets.getCurrent([...targets.map((t) => t.secretId), apiKeyId]);
  // The teamspaces are listed as soon as the API key is in, while the state records are still being read.
  const listing = reading.then(async (secrets) => {
    // Known to the redactor before anything is sent or written: every secret string, and each target's credential
    // and Authorization value (a jsonKey credential is a part of its secret string that could be echoed alone).
    for (const value of secrets.values()) if (!(value instanceof Error)) deps.redactor.add(value.value);
    for (const target of targets) {
      const secret = secrets.get(target.secretId);
      if (secret !== undefined && !(secret instanceof Error)) {
        for (const form of credentialForms(secret, target)) deps.redactor.add(form);
      }
    }
    const apiKey = readApiKey(secrets.get(apiKeyId), apiKeyId, config.datagrid.apiKeyJsonKey);
    if (apiKey instanceof Error) return { api: undefined, serverOf: () => apiKey };
    deps.redactor.add(apiKey);
    const api = deps.datagrid(apiKey);
    const serverOf = await loadServers(api, targets, config.concurrency.global, { deadlineAt: deps.deadlineAt });
    return { api, serverOf };
  });
  const [secrets, states, { api, serverOf }] = await Promise.all([
    reading,
    deps.state.getMany(targets.map(statePkFor)),
    listing,
  ]);

  return {
    api,
    of: (target) => ({
      target,
      secret:
        secrets.get(target.secretId) ??
        new RotatorError('SECRET_NOT_FOUND', `secret ${target.secretId} was not returned`),
      state: states.get(statePkFor(target)),
      server: serverOf(target),
    }),
  };
}

function readApiKey(
  secret: SecretValue | Error | undefined,
  secretId: string,
  jsonKey: string | undefined,
): string | Error {
  if (secret === undefined)
    return new ApiKeyUnavailableError('SECRET_NOT_FOUND', `Datagrid API key secret ${secretId} was not returned`);
  if (secret instanceof Error) {
    const code = secret instanceof RotatorError ? secret.code : 'SECRET_ACCESS_DENIED';
    return new ApiKeyUnavailableError(code, `Datagrid API key unavailable: ${secret.message}`);
  }
  try {
    return extractCredential(secret, jsonKey);
  } catch (error) {
    return new ApiKeyUnavailableError(
      'INVALID_SECRET_VALUE',
      `Datagrid API key unusable: ${error instanceof Error ? error.message : 'invalid'}`,
    );
  }
}
