// Messages between the page and the CPU training worker (src/app/cpuWorker.ts).

import type { SineRunSettings } from '../train/setup.js';
import type { TrainOptions } from '../train/trainer.js';
import type { SessionEnd, Snapshot } from './session.js';

export type ToWorker =
  | { type: 'start'; run: SineRunSettings; train: TrainOptions }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

/** A failure as the page shows it: beside a field when `field` names one. */
export interface RunFailure {
  field: string | null;
  message: string;
}

export type FromWorker =
  | { type: 'report'; snapshot: Snapshot }
  | { type: 'paused' }
  | { type: 'ended'; end: SessionEnd }
  | { type: 'error'; failure: RunFailure };
