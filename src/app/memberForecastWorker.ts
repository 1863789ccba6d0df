// A population's members' forecasts off the page's thread (memberForecasts.ts): movableRun.ts starts
// one for each report of a population trained on WebGPU, and it ends with the answer. In: the run's
// data and layout and the members' packed weights. Out: each member's two forecasts, transferred.

import { describeFailure } from './failure.js';
import { forecastBuffers, type MemberForecastRequest, memberForecasts } from './memberForecasts.js';
import { workerScope } from './workerJob.js';

workerScope.onmessage = async (event: MessageEvent<MemberForecastRequest>) => {
  try {
    const result = await memberForecasts(event.data);
    workerScope.postMessage({ type: 'result', result }, forecastBuffers(result));
  } catch (err) {
    workerScope.postMessage({ type: 'error', failure: describeFailure(err) });
  }
};
