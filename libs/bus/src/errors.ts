/** One problem found while validating a message or stored value (a zod issue fits this shape). */
export interface MessageIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Base of every error the bus throws; the underlying NATS error, if any, is in `cause`. */
export class BusError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BusError';
  }
}

/**
 * NATS (or JetStream) cannot be reached now: not connected, closed, no answer in time, or JetStream
 * not ready. The operation was not done, except a write whose answer was lost (`outcomeUnknown`).
 */
export class BusUnavailableError extends BusError {
  constructor(
    message: string,
    readonly outcomeUnknown = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BusUnavailableError';
  }
}

/** The server refused our credentials (wrong user/password, token or nkey). */
export class BusAuthenticationError extends BusError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BusAuthenticationError';
  }
}

/** A payload or stored value does not match its schema (or is not JSON); `issues` names each field. */
export class InvalidMessageError extends BusError {
  constructor(
    /** The subject (or `$KV.<bucket>.<key>`) the message was for. */
    readonly subject: string,
    readonly issues: readonly MessageIssue[],
    options?: ErrorOptions,
  ) {
    super(`invalid message on ${subject}: ${formatIssues(issues)}`, options);
    this.name = 'InvalidMessageError';
  }
}

/** A KV write expected another revision of the key; `actual` is the key's revision when the server said it. */
export class RevisionConflictError extends BusError {
  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly expected: number,
    readonly actual: number | undefined,
    options?: ErrorOptions,
  ) {
    const now = actual === undefined ? '' : actual === 0 ? ' (it does not exist)' : ` (it is at revision ${actual})`;
    const wanted = expected === 0 ? 'not to exist' : `to be at revision ${expected}`;
    super(`${bucket}/${key}: expected ${wanted}${now}`, options);
    this.name = 'RevisionConflictError';
  }
}

/** No reply to a request within its timeout. */
export class RequestTimeoutError extends BusError {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`no reply on ${subject} within ${timeoutMs} ms`, options);
    this.name = 'RequestTimeoutError';
  }
}

/** Why a service answered a request with an error instead of a reply. */
export const ReplyErrorCode = {
  /** The request did not match the service's schema. */
  InvalidRequest: 'invalid-request',
  /** The service's handler produced a reply that does not match the reply schema. */
  InvalidReply: 'invalid-reply',
  /** The service's handler threw. */
  HandlerFailed: 'handler-failed',
} as const;
export type ReplyErrorCode = (typeof ReplyErrorCode)[keyof typeof ReplyErrorCode];

/** The service that served a request answered with an error. */
export class RemoteError extends BusError {
  constructor(
    readonly subject: string,
    readonly code: ReplyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${subject}: ${code}: ${message}`, options);
    this.name = 'RemoteError';
  }
}

/** A KV key that NATS would refuse (allowed: letters, digits, `-_=/.`, no leading/trailing/double dot). */
export class InvalidKeyError extends BusError {
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`invalid key ${JSON.stringify(key)}: use letters, digits and - _ = / . (not at either end, no '..')`, options);
    this.name = 'InvalidKeyError';
  }
}

/** `weight: Too big: expected number to be <=65535; name: Invalid input` */
export function formatIssues(issues: readonly MessageIssue[]): string {
  return issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}
