/**
 * The rotator's error family: one base class carrying a contract error code. Messages never contain a secret value,
 * an Authorization value or an API key; callers that wrap a library error pass it through `describeCause`, which
 * keeps only the error's name and code.
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
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class RotatorError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'RotatorError';
    this.code = code;
  }
}

/** A Secrets Manager read failed (SECRET_NOT_FOUND, SECRET_ACCESS_DENIED). */
export class SecretError extends RotatorError {
  constructor(code: 'SECRET_NOT_FOUND' | 'SECRET_ACCESS_DENIED', message: string) {
    super(code, message);
    this.name = 'SecretError';
  }
}

/** A secret's value cannot become an Authorization header (INVALID_SECRET_VALUE). */
export class InvalidSecretValueError extends RotatorError {
  constructor(message: string) {
    super('INVALID_SECRET_VALUE', message);
    this.name = 'InvalidSecretValueError';
  }
}

/** A Datagrid API call failed; `status` is the HTTP status when there was a response. */
export class DatagridError extends RotatorError {
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(
    code: 'SERVER_NOT_FOUND' | 'DATAGRID_AUTH_FAILED' | 'DATAGRID_REJECTED' | 'DATAGRID_UNAVAILABLE',
    message: string,
    options: { status?: number; attempts: number },
  ) {
    super(code, message);
    this.name = 'DatagridError';
    this.status = options.status;
    this.attempts = options.attempts;
  }
}

/**
 * Datagrid answered 2xx, but not with what was asked for: a body that is not JSON or not a valid `mcp_server`, or
 * the record of another server than the one requested. After a PATCH this means the write may or may not have
 * landed. Code DATAGRID_UNAVAILABLE: Datagrid did not answer usably.
 */
export class DatagridInvalidAnswerError extends DatagridError {
  constructor(message: string, options: { status?: number; attempts: number }) {
    super('DATAGRID_UNAVAILABLE', message, options);
    this.name = 'DatagridInvalidAnswerError';
  }
}

/** The configuration file is invalid; the message names every bad field. Thrown before any call is made. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(message: string, issues: string[] = []) {
    super(message);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The invocation event is not one the handler accepts, or names unknown targets. Nothing was read or written. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Thrown by the handler after every event was emitted, so Lambda retries and alarms see a failed rotation. */
export class RotationFailedError extends Error {
  readonly runId: string;
  readonly failed: number;
  constructor(runId: string, failed: number, detail: string) {
    super(`Run ${runId}: ${failed} rotation target(s) failed: ${detail}`);
    this.name = 'RotationFailedError';
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
