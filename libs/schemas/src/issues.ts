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

type Hint = (unknownKey: string) => string | undefined;

function formatOne(issue: Issue, prefix: ReadonlyArray<PathKey>, out: FormattedIssue[], hint: Hint = () => undefined): void {
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
      for (const key of issue.keys) {
        const near = hint(key);
        push(near ? `is not a known field; did you mean ${near}?` : 'is not a known field (check its spelling)', [...path, key]);
      }
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
      for (const inner of best) formatOne(inner, path, out, hint);
      return;
    }
    case 'invalid_key':
      for (const inner of issue.issues) out.push({ path: formatPath(path), message: `key ${issueKeyText(issue)}${formatInline(inner)}` });
      return;
    case 'invalid_element':
      for (const inner of issue.issues) formatOne(inner, path, out, hint);
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

/**
 * keepalived.conf keywords people will type out of habit, and the field that means the same here. Keywords that
 * only differ by case and underscores (connect_timeout, inhibit_on_failure, ...) are matched without this list.
 */
export const KEEPALIVED_KEYWORDS: Readonly<Record<string, string>> = {
  delay_loop: 'interval',
  nb_get_retry: 'retries',
  retry: 'retries',
  lb_algo: 'scheduler',
  lvs_sched: 'scheduler',
  lb_kind: 'forwarding',
  lvs_method: 'forwarding',
  persistence_granularity: 'persistencePrefix',
  advert_int: 'advertInterval',
  auth_pass: 'password',
  auth_type: 'type',
  virtual_ipaddress: 'virtualAddresses',
  unicast_peer: 'unicastPeers',
  track_interface: 'trackInterfaces',
  track_script: 'trackScripts',
  nopreempt: 'preempt',
  uthreshold: 'upperThreshold',
  lthreshold: 'lowerThreshold',
  real_server: 'realServers',
  status_code: 'statusCodes',
  misc_path: 'path',
  misc_timeout: 'timeout',
  misc_dynamic: 'dynamicWeight',
  enable_sni: 'sni',
  http_protocol: 'httpVersion',
  ops: 'onePacket',
};

const squash = (k: string) => k.replace(/[_-]/g, '').toLowerCase();

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] ?? 0;
      row[j] = Math.min(up + 1, (row[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] ?? 0;
}

/** Every field name declared anywhere in a schema (through wrappers, arrays, unions, records and pipes). */
function fieldNames(schema: z.core.$ZodType, seen = new WeakSet<object>(), out = new Set<string>()): Set<string> {
  if (seen.has(schema)) return out;
  seen.add(schema);
  const def = schema._zod.def as unknown as Record<string, unknown>;
  const visit = (s: unknown) => {
    if (s && typeof s === 'object' && '_zod' in s) fieldNames(s as z.core.$ZodType, seen, out);
  };
  if (def.type === 'object' && def.shape && typeof def.shape === 'object') {
    for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) {
      out.add(key);
      visit(child);
    }
  }
  for (const k of ['innerType', 'element', 'in', 'out', 'valueType', 'left', 'right']) visit(def[k]);
  for (const k of ['options', 'items']) if (Array.isArray(def[k])) (def[k] as unknown[]).forEach(visit);
  return out;
}

function hintFor(schema: z.core.$ZodType | undefined): Hint {
  if (!schema) return () => undefined;
  const names = [...fieldNames(schema)];
  return (unknownKey) => {
    const alias = KEEPALIVED_KEYWORDS[unknownKey];
    if (alias !== undefined && names.includes(alias)) return alias;
    const target = squash(unknownKey);
    let best: { name: string; d: number } | undefined;
    for (const name of names) {
      // The same name declared elsewhere (another check type, another object) is no hint here.
      if (name === unknownKey) continue;
      const d = editDistance(target, squash(name));
      if (d <= Math.min(2, Math.floor(name.length / 3)) && (!best || d < best.d)) best = { name, d };
    }
    return best?.name;
  };
}

/**
 * Turns a ZodError (or its issues) into plain-words problems, each naming its field. Given the schema, an unknown
 * field gets a "did you mean" (typos, keepalived spellings such as persistence_timeout or nb_get_retry).
 */
export function formatIssues(error: z.ZodError | ReadonlyArray<Issue>, opts: { schema?: z.core.$ZodType } = {}): FormattedIssue[] {
  const issues = 'issues' in error ? error.issues : error;
  const out: FormattedIssue[] = [];
  const hint = hintFor(opts.schema);
  for (const issue of issues) formatOne(issue, [], out, hint);
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
  constructor(what: string, error: z.ZodError, schema?: z.core.$ZodType) {
    const issues = formatIssues(error, schema ? { schema } : {});
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
  if (!result.success) throw new ContractError(what, result.error, schema);
  return result.data;
}

/** Like parseContract, but returns the problems instead of throwing. */
export function checkContract<S extends z.ZodType>(
  schema: S,
  value: unknown,
): { ok: true; value: z.output<S> } | { ok: false; issues: FormattedIssue[] } {
  const result = schema.safeParse(value, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: formatIssues(result.error, { schema }) };
}
