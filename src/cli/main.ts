// The command-line tool: `npm run cli -- <command> [options]`. Commands: train, predict, inspect, backtest,
// search, gradients, export, import, bench, help (generated from commands.ts).
// A mistake the user can fix (bad option, bad file) prints one line on stderr and exits with 2, as
// does output that cannot be written (a full disk); a reader that stops early (`| head -1`) ends the
// program quietly with 141, as SIGPIPE would.

import { isNodeMemberThread, serveNodeMemberThread } from '../backends/cpu/nodeThreads.js';
import { runCli, watchOutput } from './run.js';

export { EXIT_CLOSED_PIPE } from './run.js';

if (isNodeMemberThread()) {
  serveNodeMemberThread();
} else {
  watchOutput();
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
