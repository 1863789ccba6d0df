// The CPU backend's training loop, off the page's main thread so the page stays responsive. The page
// sends one 'start' with the settings, then 'pause', 'resume' or 'stop' at any time; the worker
// answers with a snapshot at every report. It builds its run from the same settings as the page
// (startSineRun), so data, initial weights and minibatch order match any other backend's run.

import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import { startSineRun } from '../train/setup.js';
import { describeFailure } from './failure.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { RunControl, runSession } from './session.js';

// The project's lib is DOM (not WebWorker); a dedicated worker's scope posts like a port.
const scope = self as unknown as {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);
const control = new RunControl(() => post({ type: 'paused' }));
let started = false;

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'start':
      if (!started) {
        started = true;
        void run(message);
      }
      break;
    case 'pause':
      control.pause();
      break;
    case 'resume':
      control.resume();
      break;
    case 'stop':
      control.stop();
      break;
  }
};

async function run(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  let backend: CpuBackend | null = null;
  try {
    const start = startSineRun(message.run);
    backend = new CpuBackend(start.layout);
    const end = await runSession(backend, start, message.train, control, (snapshot) =>
      post({ type: 'report', snapshot }, [snapshot.predictions.buffer, snapshot.forecast.buffer]),
    );
    post({ type: 'ended', end });
  } catch (err) {
    post({ type: 'error', failure: describeFailure(err) });
  } finally {
    backend?.dispose();
  }
}
