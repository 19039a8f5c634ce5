// Exit codes scripts can rely on (also listed in `fulcrumctl --help`).
export const EXIT = {
  OK: 0,
  /** The API could not be reached, or failed (5xx other than 502). */
  FAILURE: 1,
  /** Bad command line or configuration (the runtime's code). */
  USAGE: 2,
  /** The API refused the request: invalid input, whole-config rule, stale revision, conflict (400, 409, 413, 415). */
  REFUSED: 3,
  /** No such object (404). */
  NOT_FOUND: 4,
  /** No token, an unknown one, a role too low, or rate-limited (401, 403, 429). */
  DENIED: 5,
  /** An operation reached the agents and at least one did not succeed (502). */
  OPERATION_FAILED: 6,
  /** `diff`: the file differs from the stored state. */
  DIFFERENT: 7,
} as const;

export function exitCodeFor(status: number): number {
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 401 || status === 403 || status === 429) return EXIT.DENIED;
  if (status === 502) return EXIT.OPERATION_FAILED;
  if (status >= 400 && status < 500) return EXIT.REFUSED;
  return EXIT.FAILURE;
}
