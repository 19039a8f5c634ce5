/** One problem in a configuration: where it is and what is wrong, in plain words. */
export interface ConfigProblem {
  /** Dotted key path, e.g. `nats.servers[0]`; empty for the document itself. */
  readonly key: string;
  readonly message: string;
  /** Where the value came from: `line 4` of the file, or the environment variable that set it. */
  readonly source?: string;
}

/** The configuration could not be read or is invalid; `message` is ready to show to a person. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string | undefined,
    readonly problems: readonly ConfigProblem[],
    options?: { cause?: unknown },
  ) {
    super(formatProblems(file, problems), options);
  }
}

function formatProblems(file: string | undefined, problems: readonly ConfigProblem[]): string {
  const where = file ? ` in ${file}` : '';
  const lines = problems.map((p) => {
    const key = p.key === '' ? '(top level)' : p.key;
    return `  ${key}${p.source ? ` (${p.source})` : ''}: ${p.message}`;
  });
  return `invalid configuration${where}:\n${lines.join('\n')}`;
}

/** The command line is wrong (unknown option, missing value, unknown command); exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The service kit was used wrongly or could not start (e.g. the status port is taken). */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
