// Checks a run's forecast off the page's main thread (bands.ts's checkForecast: the held-out
// evaluation refits the benchmarks at every held-out origin, a second or more on the page's thread).
// The Forecast accuracy panel (forecastPanel.ts) starts one per check and terminates it after the
// answer or when a newer check replaces it. In: the run's data, layout, weights and drawn forecasts
// with the levels. Out: the check.

import { checkForecast, type ForecastInput } from './bands.js';
import { describeFailure } from './failure.js';
import { workerScope } from './workerJob.js';

export interface ForecastRequest {
  input: ForecastInput;
  levels: number[];
}

workerScope.onmessage = async (event: MessageEvent<ForecastRequest>) => {
  const { input, levels } = event.data;
  try {
    workerScope.postMessage({ type: 'result', result: await checkForecast(input, levels, null) });
  } catch (err) {
    workerScope.postMessage({ type: 'error', failure: describeFailure(err) });
  }
};
