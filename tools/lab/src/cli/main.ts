import { parseLabArgs, usage, UsageError } from '../vm/args.js';
import { runLab } from '../vm/run.js';
import { exitLabFailed } from '../vm/verdict.js';

/** The `lab` command (bin/lab.mjs): returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts;
  try {
    opts = parseLabArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`lab: ${err.message}\n\n${usage}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const tty = process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : null;
  try {
    return await runLab(opts, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), terminal: tty, outputIsTerminal: Boolean(process.stdout.isTTY) });
  } catch (err) {
    // Every failure gets its message; FULCRUM_LAB_DEBUG=1 adds the stack.
    const e = err as Error;
    process.stderr.write(`lab: ${e.message.replace(/^lab: /, '')}\n${process.env.FULCRUM_LAB_DEBUG ? `${e.stack}\n` : ''}`);
    return exitLabFailed;
  }
}
