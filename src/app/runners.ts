// The page's handle on a training run, whatever the backend: the CPU run lives in a Web Worker and
// is driven by messages; the WebGPU run lives on the main thread (the GPU does the work, the page
// only queues it and awaits the read-backs). Both report through the same events.

import type { Backend, BackendName } from '../backends/backend.js';
import type { ParamLayout } from '../model/layout.js';
import { startSineRun } from '../train/setup.js';
import { describeFailure } from './failure.js';
import type { FromWorker, RunFailure, ToWorker } from './protocol.js';
import { RunControl, runSession, type SessionEnd, type Snapshot } from './session.js';
import type { AppSettings } from './settings.js';

export interface RunEvents {
  onReport(snapshot: Snapshot): void;
  /** The run has reached a report and is waiting to be resumed. */
  onPaused(): void;
  onEnded(end: SessionEnd): void;
  onFailed(failure: RunFailure): void;
}

export interface TrainingRun {
  readonly backend: BackendName;
  pause(): void;
  resume(): void;
  /** Stops at once from the page's point of view: no event follows. */
  stop(): void;
}

/** CPU training in a worker; stop terminates the worker, so it ends even mid-interval. */
export function startCpuRun(settings: AppSettings, events: RunEvents): TrainingRun {
  const worker = new Worker(new URL('./cpuWorker.ts', import.meta.url), { type: 'module', name: 'cpu-training' });
  let over = false;
  const finish = () => {
    over = true;
    worker.terminate();
  };
  const send = (message: ToWorker) => {
    if (!over) worker.postMessage(message);
  };
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    if (over) return;
    const message = event.data;
    switch (message.type) {
      case 'report':
        events.onReport(message.snapshot);
        break;
      case 'paused':
        events.onPaused();
        break;
      case 'ended':
        finish();
        events.onEnded(message.end);
        break;
      case 'error':
        finish();
        events.onFailed(message.failure);
        break;
    }
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    if (over) return;
    finish();
    events.onFailed({ field: null, message: `the CPU worker failed: ${event.message || 'it could not be loaded'}` });
  };
  send({ type: 'start', run: settings.run, train: settings.train });
  return {
    backend: 'cpu',
    pause: () => send({ type: 'pause' }),
    resume: () => send({ type: 'resume' }),
    stop: finish,
  };
}

/**
 * A run on a backend the page holds (WebGPU). `makeBackend` gets the run's layout; the run disposes
 * the backend when it ends.
 */
export function startMainThreadRun(
  backendName: BackendName,
  settings: AppSettings,
  makeBackend: (layout: ParamLayout) => Promise<Backend>,
  events: RunEvents,
): TrainingRun {
  let over = false;
  const control = new RunControl(() => {
    if (!over) events.onPaused();
  });
  const run = async () => {
    let backend: Backend | null = null;
    try {
      const start = startSineRun(settings.run);
      backend = await makeBackend(start.layout);
      if (over) return;
      const end = await runSession(backend, start, settings.train, control, (snapshot) => {
        if (!over) events.onReport(snapshot);
      });
      if (!over) {
        over = true;
        events.onEnded(end);
      }
    } catch (err) {
      if (!over) {
        over = true;
        events.onFailed(describeFailure(err));
      }
    } finally {
      backend?.dispose();
    }
  };
  void run();
  return {
    backend: backendName,
    pause: () => control.pause(),
    resume: () => control.resume(),
    stop: () => {
      over = true;
      control.stop();
    },
  };
}
