// The command-line tool: `npm run cli -- <command> [options]`. Commands: train, predict, gradients, bench, help.
// A mistake the user can fix (bad option, bad file) prints one line on stderr and exits with 2, as
// does output that cannot be written (a full disk); a reader that stops early (`| head -1`) ends the
// program quietly with 141, as SIGPIPE would.

import { InputError } from '../model/errors.js';
import { benchCommand } from './bench.js';
import { gradientsCommand } from './gradients.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  train       train an LSTM (by default the seed's noisy sine task)
              --backend auto|cpu|webgpu (auto)   --hidden 30 (comma list for stacked layers, e.g. 64,32)
              --window 10  --batch 8  --epochs 101  --lr 0.01  --seed 0
              --report 10 (epochs between progress reports)  --load FILE  --save FILE (model file)  --json
  data        (train and predict) one of:
              --series sine|sum-of-sines|square|sawtooth|random-walk  --points 50  --noise 0.1
                --amplitude 1  --period 20 (square, sawtooth)  --periods 20,7 (sum-of-sines)
              --dataset stocks|sp500|co2  --symbol AAPL|AMZN|GOOG|IBM|MSFT (stocks)
              --data FILE.csv  --date-column NAME|none  --missing refuse|drop
              and --inputs COLS  --outputs COLS (names or 0-based indices)  --split 0.8
              --normalise z-score|min-max|none (default: none and no split for series, z-score and 0.8 otherwise)
  predict     forecast past the end of the data with a saved model; prints CSV step,<outputs>
              --model FILE  --steps 20  [data options]  --seed 0 (for generated series)
  gradients   one forward and backward pass, no update; prints {"loss","y","grads"} as JSON
              --model FILE  --batch FILE  [--backend auto|cpu|webgpu]
  bench       steps per second, ms per step and GFLOP/s over hidden x batch, per backend
              --backend cpu,webgpu  --hidden 16,32,64,128,256,512,1024  --batch 8,64,256  --window 10
              --steps 5 (updates per timed repetition)  --repetitions 5  --budget 10 (seconds per case)  --json
  help        this text`;

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

process.stdout.on('error', (err) => outputFailed('stdout', err));
process.stderr.on('error', (err) => outputFailed('stderr', err));

/**
 * Writes to stdout and checks at once: the stream's 'error' event waits for the event loop, which a
 * long training on the CPU does not visit between reports.
 */
function writeOut(text: string): void {
  process.stdout.write(text);
  if (process.stdout.errored) outputFailed('stdout', process.stdout.errored);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train':
      await trainCommand(rest, (line) => writeOut(`${line}\n`));
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    case 'gradients':
      await gradientsCommand(rest, (line) => console.error(line));
      return 0;
    case 'predict':
      await predictCommand(rest, writeOut);
      return 0;
    case 'bench':
      await benchCommand(rest, (line) => writeOut(`${line}\n`));
      return 0;
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    case undefined:
      console.error(USAGE);
      return 2;
    default:
      throw new InputError(
        'command',
        `unknown command "${command}" (commands: train, predict, gradients, bench, help)`,
      );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof InputError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof RangeError && ALLOCATION_FAILED.test(err.message)) {
      console.error(`error: not enough memory for what was asked (${err.message})`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
