// A search (src/train/search.ts) off the page's main thread: every configuration of the grid trained
// with every seed on the CPU backend, one population per shape (its members on the engine's
// threads), chosen on the validation part only. In: the search's settings and the CPU threads. Out:
// each configuration as it finishes, then the choice and why (or a failure that names the field).
// Stop terminates the worker.

import { browserThreadHost } from '../backends/cpu/browserThreads.js';
import { createCpuPopulation } from '../backends/cpu/createCpuBackend.js';
import type { CpuThreads } from '../settings/threads.js';
import { type Configuration, runSearch, type SearchSettings } from '../train/search.js';
import { describeFailure } from './failure.js';
import type { RunFailure } from './protocol.js';
import { workerScope } from './workerJob.js';

export interface SearchRequest {
  search: SearchSettings;
  threads: CpuThreads;
}

export type SearchReply =
  | { type: 'configuration'; configuration: Configuration; done: number; total: number }
  | { type: 'done'; chosen: { index: number; reason: string }; seconds: number; ensembleSummary: string }
  | { type: 'error'; failure: RunFailure };

const post = (reply: SearchReply) => workerScope.postMessage(reply);

workerScope.onmessage = async (event: MessageEvent<SearchRequest>) => {
  const { search, threads } = event.data;
  try {
    const result = await runSearch(
      search,
      (layout, members) => createCpuPopulation(layout, members, { threads, host: browserThreadHost }),
      (configuration, done, total) => post({ type: 'configuration', configuration, done, total }),
    );
    post({ type: 'done', chosen: result.chosen, seconds: result.seconds, ensembleSummary: result.ensemble.summary });
  } catch (err) {
    post({ type: 'error', failure: describeFailure(err) });
  }
};
