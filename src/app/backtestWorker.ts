// Runs a rolling-origin backtest (src/train/backtest.ts) off the page's main thread: its folds, and
// each fold's seeds, train as one population on the CPU backend (on this worker's thread and, on a
// cross-origin isolated page, member threads it starts). The Backtest view (backtestView.ts) starts
// one per backtest and terminates it on Stop or after the answer. In: BacktestSettings. Out: the
// progress (epochs done over epochs) and the result, without the folds' weights (the page draws and
// tabulates; it keeps no model).

import { browserThreadHost } from '../backends/cpu/browserThreads.js';
import { createCpuPopulation } from '../backends/cpu/createCpuBackend.js';
import type { ParamLayout } from '../model/layout.js';
import type { CpuThreads } from '../settings/threads.js';
import { type BacktestResult, type BacktestSettings, runBacktest } from '../train/backtest.js';
import { describeFailure } from './failure.js';
import { workerScope } from './workerJob.js';

/** What the page asks: the backtest's settings, and the CPU's threads (the form's setting). */
export interface BacktestRequest {
  settings: BacktestSettings;
  threads: CpuThreads;
}

workerScope.onmessage = async (event: MessageEvent<BacktestRequest>) => {
  const { settings, threads } = event.data;
  try {
    const open = (layout: ParamLayout, members: number) =>
      createCpuPopulation(layout, members, { threads, host: browserThreadHost });
    const result = await runBacktest(settings, open, {
      onReport: (report) => workerScope.postMessage({ type: 'progress', fraction: report.epoch / report.epochs }),
    });
    workerScope.postMessage({ type: 'result', result: withoutWeights(result) });
  } catch (err) {
    workerScope.postMessage({ type: 'error', failure: describeFailure(err) });
  }
};

function withoutWeights(result: BacktestResult): BacktestResult {
  return {
    ...result,
    folds: result.folds.map((fold) => ({
      ...fold,
      members: fold.members.map((member) => ({ ...member, params: new Float32Array(0) })),
    })),
  };
}
