/**
 * The rotator's error family: every error it throws extends `RotatorBaseError`; those that end up in a result
 * (`RotatorError` and its subclasses) carry the result's error code. Messages never contain a secret value, an
 * Authorization value or an API key; callers that wrap a library error pass it through `describeCause`, which keeps
 * only the error's name and code.
 */

export const ERROR_CODES = [
  'SECRET_NOT_FOUND',
  'SECRET_ACCESS_DENIED',
  'INVALID_SECRET_VALUE',
  'SERVER_NOT_FOUND',
  'DATAGRID_AUTH_FAILED',
  'DATAGRID_REJECTED',
  'DATAGRID_UNAVAILABLE',
  'VERIFY_UNHEALTHY',
  'VERIFY_TOOL_COUNT',
  'VERIFY_TIMEOUT',
  'LOCKED',
  'DEADLINE',
  'DRY_RUN',
  'HALTED',
  /** An unexpected error of the rotator itself or of its state store: not Datagrid's fault. */
  'INTERNAL',
  /** Pre-flight at the MCP server (engine/preflight.ts): 401/403, or any other failure to list the tools. */
  'PREFLIGHT_REJECTED',
  'PREFLIGHT_FAILED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The base of every error the rotator throws. Each class names itself explicitly: the bundler may rename a class
 * whose name clashes with another module's.
 */
export class RotatorBaseError extends Error {
  override name = 'RotatorBaseError';
}

/** An error that becomes a result's `error`: it carries the result's error code. */
export class RotatorError extends RotatorBaseError {
  override name = 'RotatorError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A Secrets Manager read failed (SECRET_NOT_FOUND, SECRET_ACCESS_DENIED). */
export class SecretError extends RotatorError {
  override name = 'SecretError';
  constructor(code: 'SECRET_NOT_FOUND' | 'SECRET_ACCESS_DENIED', message: string) {
    super(code, message);
  }
}

/** A secret's value cannot become an Authorization header (INVALID_SECRET_VALUE). */
export class InvalidSecretValueError extends RotatorError {
  override name = 'InvalidSecretValueError';
  constructor(message: string) {
    super('INVALID_SECRET_VALUE', message);
  }
}

/** A Datagrid API call failed; `status` is the HTTP status when there was a response. */
export class DatagridError extends RotatorError {
  override name = 'DatagridError';
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(
    code: 'SERVER_NOT_FOUND' | 'DATAGRID_AUTH_FAILED' | 'DATAGRID_REJECTED' | 'DATAGRID_UNAVAILABLE',
    message: string,
    options: { status?: number; attempts: number },
  ) {
    super(code, message);
    this.status = options.status;
    this.attempts = options.attempts;
  }
}

/**
 * A PATCH got no usable answer (connection lost, timeout, a 2xx body that is not a valid server) on an attempt that
 * may have reached Datagrid: the change may have been applied, so the caller must read the server before assuming
 * either way.
 */
export class DatagridOutcomeUnknownError extends DatagridError {
  override name = 'DatagridOutcomeUnknownError';
  constructor(message: string, options: { status?: number; attempts: number }) {
    super('DATAGRID_UNAVAILABLE', message, options);
  }
}

/** The API key itself is unusable: every target would fail the same way, so the run halts after the first. */
export class ApiKeyUnavailableError extends RotatorError {
  override name = 'ApiKeyUnavailableError';
}

/** A state write found the target's lease gone (it expired and another run took it): nothing was recorded. */
export class LeaseLostError extends RotatorBaseError {
  override name = 'LeaseLostError';
  readonly pk: string;
  constructor(pk: string, owner: string) {
    super(`State of ${pk} was not recorded: the lease of ${owner} was lost (expired or taken by another run)`);
    this.pk = pk;
  }
}

/**
 * Datagrid answered 2xx, but not with what was asked for: a body that is not JSON or not a valid `mcp_server`, or
 * the record of another server than the one requested. After a PATCH this means the write may or may not have
 * landed. Code DATAGRID_UNAVAILABLE: Datagrid did not answer usably.
 */
export class DatagridInvalidAnswerError extends DatagridError {
  override name = 'DatagridInvalidAnswerError';
  constructor(message: string, options: { status?: number; attempts: number }) {
    super('DATAGRID_UNAVAILABLE', message, options);
  }
}

/** The MCP server refused the new credential (401/403: PREFLIGHT_REJECTED) or could not be checked (PREFLIGHT_FAILED). */
export class PreflightError extends RotatorError {
  override name = 'PreflightError';
  constructor(code: 'PREFLIGHT_REJECTED' | 'PREFLIGHT_FAILED', message: string) {
    super(code, message);
  }
}

/** The configuration file is invalid; the message names every bad field. Thrown before any call is made. */
export class ConfigError extends RotatorBaseError {
  override name = 'ConfigError';
  readonly issues: string[];
  constructor(message: string, issues: string[] = []) {
    super(message);
    this.issues = issues;
  }
}

/** The invocation event is not one the handler accepts, or names unknown targets. Nothing was read or written. */
export class RequestError extends RotatorBaseError {
  override name = 'RequestError';
}

/** Thrown by the handler after every event was emitted, so Lambda retries and alarms see a failed rotation. */
export class RotationFailedError extends RotatorBaseError {
  override name = 'RotationFailedError';
  readonly runId: string;
  readonly failed: number;
  constructor(runId: string, failed: number, detail: string) {
    super(`Run ${runId}: ${failed} rotation target(s) failed: ${detail}`);
    this.runId = runId;
    this.failed = failed;
  }
}

/**
 * Describe a library error without its message: SDK and HTTP client messages may echo request data, and request
 * data here can be a secret. Name and code are enough to act on.
 */
export function describeCause(error: unknown): string {
  if (error instanceof RotatorError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && code !== error.name ? `${error.name} (${code})` : error.name;
  }
  return typeof error;
}
