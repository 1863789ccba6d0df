// The training scheduler shared by the CLI, the app and the tests, for one model: the blog's loop (a
// fresh shuffle each epoch, floor(N / B) minibatches, an update after each, the error over all
// samples after the epoch), driving any Backend with the chosen optimizer (src/model/optimizer.ts) at
// the epoch's learning rate after decay. A single model is a population of one: the loop is
// population.ts's, driven here through `singleMember`. Errors are read back once per report
// interval; docs/ARCHITECTURE.md says why.

import type { Backend } from '../backends/backend.js';
import type { Dataset } from '../data/dataset.js';
import type { Rng } from '../data/rng.js';
import type { Checkpoint, TrainOptions, TrainReport, TrainResult } from './options.js';
import {
  isGpuFailure,
  type MemberSpec,
  type PopulationReport,
  singleMember,
  trainPopulation,
  trainPopulationToEnd,
} from './population.js';

export {
  type BestEpoch,
  type Checkpoint,
  checkTrainOptions,
  DATA_SCALE_LIMIT,
  type Divergence,
  type EpochProgress,
  type Kept,
  type TrainOptions,
  type TrainReport,
  type TrainResult,
} from './options.js';
export { isGpuFailure } from './population.js';

/**
 * Trains `backend` on `data`, drawing each epoch's minibatch order from `rng` (or the checkpoint's,
 * resuming from it); yields a report every `reportEvery` epochs and after the last. Stopping the
 * iteration stops training after the epochs already queued; disposing of the backend stops it
 * between two slices of an epoch.
 */
export async function* train(
  backend: Backend,
  data: Dataset,
  rng: Rng,
  options: TrainOptions,
  now: () => number = () => performance.now(),
  resume?: Checkpoint,
): AsyncGenerator<TrainReport, TrainResult> {
  const loop = trainPopulation(singleMember(backend), data, [memberOf(options, rng, resume)], options, now);
  for (;;) {
    const next = await loop.next();
    if (next.done) return next.value.members[0];
    yield next.value.members[0];
  }
}

/** A single model's options as the one member of a population. */
function memberOf(options: TrainOptions, rng: Rng, resume?: Checkpoint): MemberSpec {
  const { learningRate, lrDecay, optimizer, loss, initialOptimizerState } = options;
  return {
    rng,
    learningRate,
    ...(lrDecay !== undefined ? { lrDecay } : {}),
    ...(optimizer !== undefined ? { optimizer } : {}),
    ...(loss !== undefined ? { loss } : {}),
    ...(initialOptimizerState !== undefined ? { initialOptimizerState } : {}),
    ...(resume !== undefined ? { resume } : {}),
  };
}

/** A backend to go on with when the first one fails (a lost GPU device). */
export interface Fallback {
  /** Which failures to recover from: by default a GpuFailure (device lost, out of memory, a validation error). */
  recoverable?: (error: unknown, backend: Backend) => boolean;
  create(): Backend;
  /** Told why and from which epoch training goes on. */
  onSwitch?(message: string, fromEpoch: number): void;
}

/**
 * Runs `train` to the end, calling `onReport` at each report. With a fallback, a failure of the
 * backend (a lost GPU device) resumes on the fallback from the last report: at most one report
 * interval is lost and the minibatch orders stay those of the run's seed. Returns the backend that finished.
 */
export async function trainToEnd(
  backend: Backend,
  data: Dataset,
  rng: Rng,
  options: TrainOptions,
  onReport?: (report: TrainReport) => void | Promise<void>,
  fallback?: Fallback,
): Promise<TrainResult & { backend: Backend; switched: string | null }> {
  // The start is the first checkpoint, so a failure before the first report loses nothing either.
  const start: Checkpoint = {
    epoch: 0,
    losses: [],
    params: await backend.readParams(),
    rng: rng.clone(),
    ...(options.initialOptimizerState ? { optimizerState: options.initialOptimizerState } : {}),
    ...options.continueFrom,
  };
  let current = backend;
  const result = await trainPopulationToEnd(
    singleMember(backend),
    data,
    [memberOf(options, rng, start)],
    options,
    onReport && ((report: PopulationReport) => onReport(report.members[0])),
    fallback && {
      recoverable: (error) => (fallback.recoverable ?? isGpuFailure)(error, current),
      create: () => {
        current = fallback.create();
        return singleMember(current);
      },
      ...(fallback.onSwitch ? { onSwitch: fallback.onSwitch } : {}),
    },
  );
  return { ...result.members[0], backend: current, switched: result.switched };
}
