// The command-line tool as a function: runCli(argv) runs one command and resolves to its exit status
// (0, 2 for a mistake the user can fix, 1 for a bug) without ending the process, so main.ts wires it
// to process.exitCode and the tests run most commands in their own process. Output goes to
// process.stdout and process.stderr as the commands write it.

import { allowRelaxedSimd } from '../backends/cpu/nodeThreads.js';
import { InputError } from '../model/errors.js';
import { printable } from '../util/text.js';
import { backtestCommand } from './backtest.js';
import { benchCommand } from './bench.js';
import { helpText, unknownCommand } from './commands.js';
import { exportCommand, importCommand } from './exchange.js';
import { gradientsCommand } from './gradients.js';
import { inspectCommand } from './inspect.js';
import { predictCommand } from './predict.js';
import { searchCommand } from './search.js';
import { trainCommand } from './train.js';

/** Exit status when stdout's reader went away: 128 + SIGPIPE, what a shell reports for `yes | head -1`. */
export const EXIT_CLOSED_PIPE = 141;

/** RangeErrors that mean an allocation failed, not a bug. */
const ALLOCATION_FAILED =
  /allocation failed|Invalid typed array length|Invalid array buffer length|Invalid array length/i;

/** A failed write to stdout or stderr: a reader that went away ends quietly, anything else in one line. */
function outputFailed(name: 'stdout' | 'stderr', err: NodeJS.ErrnoException): never {
  if (err.code === 'EPIPE') process.exit(EXIT_CLOSED_PIPE);
  if (name === 'stdout') process.stderr.write(`error: cannot write to stdout (${err.code ?? err.message})\n`);
  process.exit(2);
}

/** Ends the process on a failed write to stdout or stderr (the program's entry installs it once). */
export function watchOutput(): void {
  process.stdout.on('error', (err) => outputFailed('stdout', err));
  process.stderr.on('error', (err) => outputFailed('stderr', err));
}

/**
 * Writes to stdout and checks at once: the stream's 'error' event waits for the event loop, which a
 * long training on the CPU does not visit between reports.
 */
function writeOut(text: string): void {
  process.stdout.write(text);
  if (process.stdout.errored) outputFailed('stdout', process.stdout.errored);
}

/** Lines for a person on stdout, each one's control characters escaped (paths and names come from files). */
function writeLine(text: string): void {
  writeOut(`${text.split('\n').map(printable).join('\n')}\n`);
}

/** A line for a person on stderr, escaped alike. */
function errorLine(line: string): void {
  console.error(printable(line));
}

async function main(argv: string[]): Promise<number> {
  // The CPU kernels' fused multiply-add, where this Node has it only behind a flag (Node 20).
  allowRelaxedSimd();
  const [command, ...rest] = argv;
  if (command !== undefined && command !== 'help' && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(helpText(command));
    return 0;
  }
  switch (command) {
    case 'train':
      await trainCommand(rest, writeLine);
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    case 'gradients':
      await gradientsCommand(rest, errorLine);
      return 0;
    case 'predict':
      await predictCommand(rest, writeOut);
      return 0;
    case 'inspect':
      await inspectCommand(rest, writeOut);
      return 0;
    case 'backtest':
      await backtestCommand(rest, writeLine);
      return 0;
    case 'search':
      await searchCommand(rest, writeLine);
      return 0;
    case 'export':
      exportCommand(rest, errorLine);
      return 0;
    case 'import':
      importCommand(rest, errorLine);
      return 0;
    case 'bench':
      await benchCommand(rest, writeLine);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      console.log(helpText(rest[0]));
      return 0;
    case undefined:
      console.error(helpText());
      return 2;
    default:
      throw unknownCommand(command);
  }
}

// The one-file CLI is also what the CPU backend's member threads load (nodeThreads.ts): there it serves.
/** Runs one command; resolves to its exit status, having printed what it prints (errors as one line). */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    if (err instanceof InputError) {
      errorLine(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof RangeError && ALLOCATION_FAILED.test(err.message)) {
      errorLine(`error: not enough memory for what was asked (${err.message})`);
      return 2;
    }
    console.error(err);
    return 1;
  }
}
