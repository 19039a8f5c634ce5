import type { FormattedIssue } from '@fulcrum/schemas';

// Every error the API answers with: a status, a stable code (documented in ERROR_CODES, checked by a spec) and
// plain words. Bad input is always one of these; anything else is a 500 with a generic message.

export const ERROR_CODES = {
  INVALID_REQUEST: 'The body, a parameter or a header is malformed or does not follow the schema; `errors` lists each field.',
  INVALID_STATE: 'The change is valid alone but breaks a whole-config rule (duplicate VIP, unknown host, ...).',
  UNAUTHORIZED: 'No bearer token, or one that is not known.',
  FORBIDDEN: 'The token is valid but its role may not do this.',
  TOO_MANY_FAILURES: 'Too many failed authentications from this address; retry after the Retry-After delay.',
  NOT_FOUND: 'No such object or route.',
  ALREADY_EXISTS: 'An object with this id exists already (create), or If-None-Match: * failed.',
  STALE_REVISION: 'If-Match names an older revision: the object changed since it was read. Read it again.',
  REFERENCED: 'The object is still used by others (listed); change those first.',
  PAYLOAD_TOO_LARGE: 'The body is larger than the configured limit.',
  UNSUPPORTED_MEDIA_TYPE: 'The Content-Type is not one this route reads.',
  COMMAND_FAILED: 'An operation was sent to the agents and at least one did not succeed; `results` has each reply.',
  UNAVAILABLE: 'NATS is unreachable; nothing was changed.',
  INTERNAL: 'An unexpected failure; the server logged the details.',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly errors: FormattedIssue[] = [],
    readonly extra: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class ValidationError extends ApiError {
  override readonly name = 'ValidationError';
  constructor(errors: FormattedIssue[], code: 'INVALID_REQUEST' | 'INVALID_STATE' = 'INVALID_REQUEST') {
    super(400, code, errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '), errors);
  }
}

export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super(404, 'NOT_FOUND', message);
  }
}

export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  constructor(code: 'ALREADY_EXISTS' | 'STALE_REVISION' | 'REFERENCED', message: string, extra: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(409, code, message, [], extra, options);
  }
}

/** Shorthand for one bad field. */
export const badField = (path: string, message: string): ValidationError => new ValidationError([{ path, message }]);
