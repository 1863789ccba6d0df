// The command-line tool: `npm run cli -- <command> [options]`. Commands: train, predict, gradients, bench, help
// (generated from commands.ts).
// A mistake the user can fix (bad option, bad file) prints one line on stderr and exits with 2.

import { allowRelaxedSimd } from '../backends/cpu/nodeThreads.js';
import { InputError } from '../model/errors.js';
import { benchCommand } from './bench.js';
import { helpText, unknownCommand } from './commands.js';
import { gradientsCommand } from './gradients.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';

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
      await trainCommand(rest, (line) => console.log(line));
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    case 'gradients':
      await gradientsCommand(rest, (line) => console.error(line));
      return 0;
    case 'predict':
      await predictCommand(rest, (text) => process.stdout.write(text));
      return 0;
    case 'bench':
      await benchCommand(rest, (line) => console.log(line));
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof InputError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
