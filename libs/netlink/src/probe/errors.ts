/** A probe could not be set up: bad address, no such interface, or a socket call refused. */
export class ProbeError extends Error {
  override name = 'ProbeError';
  constructor(
    /** The errno name (EINVAL, EPERM, ...) or EINVAL for bad input. */
    readonly errno: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
