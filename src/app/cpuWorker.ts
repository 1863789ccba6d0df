// The CPU backend off the page's main thread, so the page stays responsive. The page sends one job:
// 'start' (a training run, from the start, from a loaded model or from where a lost GPU left off,
// or a forecast only) followed by 'pause', 'resume' or 'stop' at any time, answered with a snapshot
// at every report; or 'bench' (the CPU cases of a benchmark sweep), answered with each result. It
// builds its run from the same settings as the page (startRun), so data, initial weights and
// minibatch order match any other backend's run.
//
// WebAssembly (the CPU kernels' fast path) compiles here: index.html's Content-Security-Policy is a
// meta tag, which binds the document only, so the page's script-src needs no 'wasm-unsafe-eval'. On a
// cross-origin isolated page the backend starts threads of its own from here (browserThreads.ts),
// as many as the run's `threads` setting asks ('auto': measured); elsewhere it runs on one.

import { browserThreadHost } from '../backends/cpu/browserThreads.js';
import type { CpuBackend } from '../backends/cpu/cpuBackend.js';
import { createCpuBackend, createCpuPopulation } from '../backends/cpu/createCpuBackend.js';
import type { Population } from '../backends/population.js';
import { runSweep } from '../bench/bench.js';
import { startRun } from '../train/run.js';
import type { EpochProgress } from '../train/trainer.js';
import { describeFailure } from './failure.js';
import type { InsideRequest } from './inside.js';
import { membersMemoryProblem, runPopulationSession } from './populationSession.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { firstStep, forecastSnapshot, RunControl, runSession, type Snapshot } from './session.js';

// The project's lib is DOM (not WebWorker); a dedicated worker's scope posts like a port.
const scope = self as unknown as {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);
const control = new RunControl(() => post({ type: 'paused' }));
let busy = false;
/** What the Inside view asks for (null: closed, nothing is probed). */
let inside: InsideRequest | null = null;
const insideRequest = () => inside;

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'start':
    case 'bench':
      if (!busy) {
        busy = true;
        void (message.type === 'start' ? train(message) : bench(message));
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
    case 'inside':
      inside = message.request;
      break;
  }
};

function postSnapshot(snapshot: Snapshot): void {
  const transfer: Transferable[] = [snapshot.predictions.buffer, snapshot.params.buffer];
  if (snapshot.forecast !== null) transfer.push(snapshot.forecast.buffer);
  if (snapshot.future !== null) transfer.push(snapshot.future.buffer);
  if (snapshot.best !== null) transfer.push(snapshot.best.params.buffer);
  post({ type: 'report', snapshot }, transfer);
}

async function train(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  let backend: CpuBackend | null = null;
  try {
    const { request, resume } = message;
    inside = message.inside ?? null;
    if (message.paused) control.pause();
    const run = startRun(request.run, request.model);
    if (request.train.members > 1 && !request.forecastOnly) {
      // The members share one engine (and its threads); a run that moved here goes on from the start.
      const K = request.train.members;
      try {
        const population: Population = await createCpuPopulation(run.layout, K, {
          threads: request.train.threads,
          host: browserThreadHost,
        });
        backend = population as CpuBackend;
        const onEpochProgress = (progress: EpochProgress) => post({ type: 'progress', progress });
        onEpochProgress(firstStep(run, request.train));
        const options = { ...request.train, onEpochProgress };
        const end = await runPopulationSession(population, run, request.run, options, control, postSnapshot);
        post({ type: 'ended', end });
        return;
      } catch (err) {
        throw membersMemoryProblem(err, K);
      }
    }
    backend = await createCpuBackend(run.layout, { threads: request.train.threads, host: browserThreadHost });
    if (request.forecastOnly) {
      postSnapshot(await forecastSnapshot(backend, run, { ...request.train, inside: insideRequest }));
      post({ type: 'ended', end: { outcome: 'finished', message: null } });
      return;
    }
    const onEpochProgress = (progress: EpochProgress) => post({ type: 'progress', progress });
    onEpochProgress(firstStep(run, request.train, resume));
    const end = await runSession(
      backend,
      run,
      { ...request.train, onEpochProgress, inside: insideRequest },
      control,
      postSnapshot,
      resume,
    );
    post({ type: 'ended', end });
  } catch (err) {
    post({ type: 'error', failure: describeFailure(err) });
  } finally {
    backend?.dispose();
  }
}

async function bench(message: Extract<ToWorker, { type: 'bench' }>): Promise<void> {
  try {
    await runSweep(
      message.spec,
      { cpu: (layout) => createCpuBackend(layout, { threads: 'auto', host: browserThreadHost }) },
      message.options,
      (result, index, total) => post({ type: 'bench-result', result, index, total }),
    );
    post({ type: 'bench-done' });
  } catch (err) {
    post({ type: 'error', failure: describeFailure(err) });
  }
}
