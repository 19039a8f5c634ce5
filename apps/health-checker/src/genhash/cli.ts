import { parseArgs } from 'node:util';
import { genhash, GenhashUrlError, type GenhashOptions } from './genhash.js';

export const GENHASH_USAGE = `usage: genhash --url URL [--virtualhost HOST] [--sni NAME] [--http-version 1.0|1.1]
               [--timeout SECONDS] [--max-body BYTES] [--verbose]
Prints the MD5 digest of the body at URL, as keepalived's genhash does, for an HTTP or HTTPS
check's "digest". URL's host must be an IP address; --virtualhost sets the Host header.
`;

interface Out {
  write(s: string): unknown;
}

/**
 * The genhash command: returns the exit status (0 digest printed, 1 fetch failed, 2 usage).
 * Only the digest goes to stdout (its last line with --verbose), so scripts can capture it.
 */
export async function genhashMain(argv: readonly string[], stdout: Out = process.stdout, stderr: Out = process.stderr): Promise<number> {
  let opts: GenhashOptions;
  let verbose: boolean;
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        virtualhost: { type: 'string' },
        sni: { type: 'string' },
        'http-version': { type: 'string' },
        timeout: { type: 'string' },
        'max-body': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      stdout.write(GENHASH_USAGE);
      return 0;
    }
    if (values.url === undefined) throw new UsageError('--url is required');
    const version = values['http-version'];
    if (version !== undefined && version !== '1.0' && version !== '1.1') throw new UsageError(`--http-version must be 1.0 or 1.1, not ${version}`);
    opts = { url: values.url };
    if (values.virtualhost !== undefined) opts.virtualhost = values.virtualhost;
    if (values.sni !== undefined) opts.sni = values.sni;
    if (version !== undefined) opts.httpVersion = version;
    if (values.timeout !== undefined) opts.timeoutMs = positive(values.timeout, '--timeout') * 1000;
    if (values['max-body'] !== undefined) opts.maxBodyBytes = positive(values['max-body'], '--max-body');
    verbose = values.verbose === true;
  } catch (err) {
    stderr.write(`genhash: ${(err as Error).message}\n${GENHASH_USAGE}`);
    return 2;
  }
  try {
    const r = await genhash(opts);
    if (!r.ok) {
      stderr.write(`genhash: ${opts.url}: ${r.message}\n`);
      return 1;
    }
    if (verbose) stdout.write(`${r.header}\n\nbody: ${r.bodyBytes} bytes, MD5:\n`);
    stdout.write(`${r.digest}\n`);
    return 0;
  } catch (err) {
    if (err instanceof GenhashUrlError) {
      stderr.write(`genhash: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

class UsageError extends Error {
  override name = 'UsageError';
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, not ${JSON.stringify(value)}`);
  return n;
}
