import type { z } from 'zod';
import { isSecretKey } from './secrets.js';

// Validation problems in plain words, each with the path of the field it concerns, e.g.
// { path: 'realServers[1].port', message: 'must be at most 65535' }. config-api, the config loader and the
// CLI show these to people, so they never include a stack or zod's internal vocabulary.

export interface FormattedIssue {
  /** Dotted path with [index] for arrays; '' for the value as a whole. */
  path: string;
  message: string;
}

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/** Renders a path as `a.b[2].c` (keys that are not identifiers as `["key with.dot"]`). */
export function formatPath(path: ReadonlyArray<PathKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

const DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized|Expected)/;

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

function describe(input: unknown, secret: boolean): string {
  if (input === null) return 'null';
  if (secret) return article(typeof input);
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'an object';
  if (typeof input === 'string') return `the text ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input)}`;
  if (typeof input === 'number' || typeof input === 'boolean') return `${typeof input} ${String(input)}`;
  return typeof input;
}

const EXPECTED_WORDS: Record<string, string> = {
  string: 'text',
  number: 'number',
  int: 'whole number',
  boolean: 'true or false',
  array: 'list',
  object: 'object',
  bigint: 'whole number',
};

function invalidType(issue: Extract<Issue, { code: 'invalid_type' }>, secret: boolean): string {
  const received = 'input' in issue ? issue.input : undefined;
  const missing = received === undefined && (('input' in issue && issue.input === undefined) || /received undefined/.test(issue.message));
  if (missing) return 'is required';
  const expected = EXPECTED_WORDS[issue.expected] ?? issue.expected;
  const what = expected === 'true or false' || expected === 'text' ? expected : article(expected);
  if ('input' in issue) return `must be ${what} (got ${describe(issue.input, secret)})`;
  const m = /received (\w+)/.exec(issue.message);
  return `must be ${what}${m ? ` (got ${article(m[1] ?? '')})` : ''}`;
}

function bound(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const small = issue.code === 'too_small';
  const limit = small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      return small
        ? Number(limit) === 1
          ? 'must not be empty'
          : `must be at least ${limit} characters long`
        : `must be at most ${limit} characters long`;
    case 'array':
    case 'set':
      return small ? (Number(limit) === 1 ? 'must not be empty' : `needs at least ${limit} entries`) : `allows at most ${limit} entries`;
    default:
      if (small) return inclusive ? `must be at least ${limit}` : `must be greater than ${limit}`;
      return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
  }
}

function customOr(issue: Issue, fallback: string): string {
  return DEFAULT_MESSAGE.test(issue.message) ? fallback : issue.message;
}

function formatOne(issue: Issue, prefix: ReadonlyArray<PathKey>, out: FormattedIssue[]): void {
  const path = [...prefix, ...issue.path];
  const push = (message: string, p: ReadonlyArray<PathKey> = path): void => {
    out.push({ path: formatPath(p), message });
  };
  switch (issue.code) {
    case 'invalid_type':
      // Never echo the value of a secret field into a message that may be logged.
      return push(customOr(issue, invalidType(issue, isSecretKey(String(path[path.length - 1] ?? '')))));
    case 'too_small':
    case 'too_big':
      return push(customOr(issue, bound(issue)));
    case 'invalid_value': {
      const values = issue.values.map((v) => (typeof v === 'string' ? v : String(v)));
      return push(customOr(issue, values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of: ${values.join(', ')}`));
    }
    case 'unrecognized_keys':
      for (const key of issue.keys) push('is not a known field (check its spelling)', [...path, key]);
      return;
    case 'invalid_union': {
      const disc = issue as { note?: string; options?: unknown[] };
      if (disc.note === 'No matching discriminator' && Array.isArray(disc.options)) {
        return push(`must be one of: ${disc.options.map(String).join(', ')}`);
      }
      // The branch with the fewest problems is the one the author most likely meant.
      // A branch rejected for its very type (a number where text was given) is the least likely one.
      const score = (branch: Issue[]) => branch.length + (branch.some((i) => i.code === 'invalid_type' && i.path.length === 0) ? 1000 : 0);
      const best = [...issue.errors].sort((a, b) => score(a) - score(b))[0];
      if (!best || best.length === 0) return push(customOr(issue, 'does not match any of the allowed forms'));
      for (const inner of best) formatOne(inner, path, out);
      return;
    }
    case 'invalid_key':
      for (const inner of issue.issues) out.push({ path: formatPath(path), message: `key ${issueKeyText(issue)}${formatInline(inner)}` });
      return;
    case 'invalid_element':
      for (const inner of issue.issues) formatOne(inner, path, out);
      return;
    case 'invalid_format':
      return push(customOr(issue, issue.format === 'regex' ? 'has the wrong format' : `must be a valid ${issue.format}`));
    case 'not_multiple_of':
      return push(customOr(issue, `must be a multiple of ${String(issue.divisor)}`));
    case 'custom':
    default:
      return push(issue.message);
  }
}

function issueKeyText(issue: Issue): string {
  const key = (issue as { input?: unknown }).input;
  return key === undefined ? '' : `${JSON.stringify(key)} `;
}

function formatInline(inner: Issue): string {
  const sub: FormattedIssue[] = [];
  formatOne(inner, [], sub);
  return sub.map((s) => s.message).join('; ');
}

/** Turns a ZodError (or its issues) into plain-words problems, each naming its field. */
export function formatIssues(error: z.ZodError | ReadonlyArray<Issue>): FormattedIssue[] {
  const issues = 'issues' in error ? error.issues : error;
  const out: FormattedIssue[] = [];
  for (const issue of issues) formatOne(issue, [], out);
  return out;
}

/** One line per problem: `path: message` (just the message for the whole value). */
export function formatIssuesText(error: z.ZodError | ReadonlyArray<Issue>): string {
  return formatIssues(error)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join('\n');
}

/** Thrown by parseContract and the builders when a value does not follow the contract. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  readonly issues: FormattedIssue[];
  constructor(what: string, error: z.ZodError) {
    const issues = formatIssues(error);
    super(`${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, { cause: error });
    this.issues = issues;
  }
}

/**
 * Parses `value` with `schema`, or throws a ContractError listing every problem. `what` names the value in the
 * message, e.g. 'virtual service web'.
 */
export function parseContract<S extends z.ZodType>(schema: S, value: unknown, what = 'value'): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new ContractError(what, result.error);
  return result.data;
}

/** Like parseContract, but returns the problems instead of throwing. */
export function checkContract<S extends z.ZodType>(
  schema: S,
  value: unknown,
): { ok: true; value: z.output<S> } | { ok: false; issues: FormattedIssue[] } {
  const result = schema.safeParse(value, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: formatIssues(result.error) };
}
