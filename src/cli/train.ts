// `train`: the blog's task (noisy sine, windows predict the next value) by default, or any other
// series (generated, bundled, a CSV file), on a chosen backend, optionally going on from a saved
// model. Without --json it prints progress and a summary for a person; with --json, stdout is
// exactly one JSON object (see README, "train --json").

import type { Backend } from '../backends/backend.js';
import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import { selectionPart } from '../data/split.js';
import type { ColumnRef } from '../data/windows.js';
import { paramLayout } from '../model/layout.js';
import { SETTINGS } from '../settings/training.js';
import {
  baselineErrors,
  comparisonPart,
  type Evaluation,
  evaluate,
  type Overfitting,
  overfitting,
  predictParts,
} from '../train/evaluate.js';
import { checkModelFileSize, modelFileBytes } from '../train/modelFile.js';
import type { Run } from '../train/run.js';
import { continuationOf } from '../train/savedModel.js';
import { type Fallback, type TrainOptions, type TrainReport, trainToEnd } from '../train/trainer.js';
import { printable } from '../util/text.js';
import { type OpenedBackend, openBackend } from './backends.js';
import { baselinesJson, metricsJson } from './evaluationJson.js';
import { checkWritablePath, writeFileAtomic } from './files.js';
import { trainMembers } from './members.js';
import { checkSavable, keptOf, modelToSave, savedShape } from './saving.js';
import { jsonConfig, jsonData, startLine } from './trainReport.js';
import { EXIT_DIVERGED, readTrainSettings, runFor, type TrainSettings } from './trainSettings.js';

export { EXIT_DIVERGED } from './trainSettings.js';

/**
 * `train` from its arguments to its output, one phase a call: read the options, open the backend,
 * train, evaluate, save, print.
 */
export async function trainCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const s = readTrainSettings(argv);
  // A save that cannot work is refused now, not after the whole run (and, for size, before the
  // weights are even drawn; checkSavable checks again with the data's own columns).
  if (s.save !== undefined) {
    checkWritablePath(s.save, '--save');
    const columns = (given: ColumnRef[] | undefined) => (given ?? s.data.defaultColumns)?.length ?? 1;
    const shape = s.load?.config ?? {
      inputSize: columns(s.data.inputs),
      hiddenSizes: s.hiddenSizes,
      outputSize: columns(s.data.outputs),
      window: s.window,
    };
    checkModelFileSize(savedShape(s, paramLayout(shape).size, 0), '--save');
  }
  for (const line of s.data.notes) console.error(printable(line));
  const run = runFor(s);
  SETTINGS.batch.within({ max: run.prepared.train.count }).check(s.batchSize, '--batch');
  if (s.save !== undefined) checkSavable(s, run);
  if (s.members > 1) return trainMembers(s, run, log);
  const opened = await openBackend(s.backend, run.layout, s.batchSize, s.threads);
  if (!s.json) log(opened.note);
  const interrupted = sayWhatIsKeptOnInterrupt(s.save);
  try {
    const trained = await trainRun(s, run, opened.backend, log, interrupted.reached);
    const summary = await summarize(s, run, trained);
    if (s.save !== undefined) await saveModel(s.save, s, run, trained.result);
    if (s.json) process.stdout.write(`${JSON.stringify(jsonReport(s, run, opened, trained, summary))}\n`);
    else printSummary(s, opened.backend, trained, summary, log);
    if (trained.result.diverged !== null) {
      console.error(`error: ${trained.result.diverged.message}`);
      process.exitCode = EXIT_DIVERGED;
    }
  } finally {
    interrupted.done();
    opened.close();
  }
}

/** Exit status after Ctrl-C: 128 + SIGINT, what a shell reports. */
const EXIT_INTERRUPTED = 130;

/**
 * Until `done()`, Ctrl-C (SIGINT) ends the run at the next report with one line saying how far it got
 * and that nothing of it was saved (the file `--save` names, if any, is as it was: saves are atomic
 * and come last). `reached(epoch)` records the last epoch reported.
 */
function sayWhatIsKeptOnInterrupt(save: string | undefined): { reached(epoch: number): void; done(): void } {
  let epoch = 0;
  const onInterrupt = () => {
    const where = epoch > 0 ? ` after epoch ${epoch}` : ' before the first report';
    const kept =
      save === undefined
        ? 'nothing was saved (give --save FILE to keep the model)'
        : `the run's progress was not saved; ${printable(save)} is as it was before the run`;
    process.stderr.write(`interrupted${where}: ${kept}\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.once('SIGINT', onInterrupt);
  return {
    reached: (e) => {
      epoch = e;
    },
    done: () => process.off('SIGINT', onInterrupt),
  };
}

type TrainedResult = Awaited<ReturnType<typeof trainToEnd>>;

/** What training gave: the trainer's result and the epochs it numbered. */
interface Trained {
  result: TrainedResult;
  firstEpoch: number;
  lastEpoch: number;
  /** The part that chose the best epoch (validation, else test), or null. */
  selection: ReturnType<typeof selectionPart>;
}

/**
 * Trains `backend` from the run's weights (or the loaded model's epoch on), logging progress for a
 * person; `reached` hears each reported epoch.
 */
async function trainRun(
  s: TrainSettings,
  run: Run,
  backend: Backend,
  log: (line: string) => void,
  reached: (epoch: number) => void,
): Promise<Trained> {
  backend.setParams(run.params);
  // A version-2 model goes on from the epoch of its weights: --epochs more, numbered on from there.
  const saved = s.load?.training;
  const continueFrom = saved && continuationOf(saved, run.params, s.keepBest);
  const firstEpoch = (continueFrom?.epoch ?? 0) + 1;
  const lastEpoch = firstEpoch - 1 + s.epochs;
  const selection = selectionPart(run.prepared);
  if (!s.json) log(startLine(s, run, firstEpoch, lastEpoch));
  const fallback: Fallback | undefined =
    backend.name === 'webgpu'
      ? {
          create: () => new CpuBackend(run.layout),
          onSwitch: (message) => console.error(`warning: ${message} on the cpu backend`),
        }
      : undefined;
  const options: TrainOptions = {
    epochs: lastEpoch,
    batchSize: s.batchSize,
    learningRate: s.learningRate,
    reportEvery: s.reportEvery,
    validation: selection?.data ?? null,
    optimizer: s.optimizer,
    loss: s.loss,
    lrDecay: s.lrDecay,
    keepBest: s.keepBest,
    patience: s.patience,
    ...(s.load?.optimizer && s.load.optimizer.name === s.optimizer.name
      ? { initialOptimizerState: s.load.optimizer }
      : {}),
    ...(continueFrom ? { continueFrom } : {}),
  };
  const onReport = (report: TrainReport) => {
    reached(report.epoch);
    if (!s.json) log(progressLine(report, lastEpoch));
    // The event loop turns once a report: a Ctrl-C is heard here (the epochs themselves never yield).
    return new Promise<void>((resolve) => setImmediate(resolve));
  };
  const result = await trainToEnd(backend, run.prepared.train, run.rng, options, onReport, fallback);
  return { result, firstEpoch, lastEpoch, selection };
}

/** One report's line: the epoch, its error (and validation error) and the rate. */
function progressLine(report: TrainReport, lastEpoch: number): string {
  const v = report.validationLosses[report.validationLosses.length - 1];
  return (
    `epoch ${String(report.epoch).padStart(String(lastEpoch).length)}/${lastEpoch}  error ${report.losses[report.losses.length - 1].toFixed(5)}  ` +
    `${v ? `validation ${v.loss.toFixed(5)}  ` : ''}${Math.round(report.steps / report.seconds)} steps/s`
  );
}

/** What a run comes to: its rates, the errors of the weights kept against the baselines, its best epoch. */
interface Summary {
  stepsPerSecond: number;
  msPerEpoch: number;
  evaluation: Evaluation;
  best: { epoch: number; validationLoss: number; chosenOn: 'validation' | 'test' } | null;
  overfit: Overfitting | null;
  /** What the CPU backend ran on (its thread count is measured once the data is set, so known only now). */
  cpu: CpuBackend | null;
  /** A warning where the best epoch was chosen on the held-out part itself, else ''. */
  peeked: string;
}

/** Evaluates the weights kept (the best epoch's, with keepBest: they are in the result's backend now). */
async function summarize(s: TrainSettings, run: Run, trained: Trained): Promise<Summary> {
  const { result, firstEpoch, selection } = trained;
  const { prepared } = run;
  const epochsRun = result.epoch - firstEpoch + 1;
  const evaluation = evaluate(
    prepared,
    await predictParts(result.backend, prepared),
    baselineErrors(prepared, comparisonPart(prepared), s.loss),
    run.unit,
  );
  const best =
    result.best === null || selection === null
      ? null
      : { epoch: result.best.epoch, validationLoss: result.best.loss, chosenOn: selection.name };
  return {
    stepsPerSecond: (epochsRun * Math.floor(prepared.train.count / s.batchSize)) / result.seconds,
    msPerEpoch: (1000 * result.seconds) / epochsRun,
    evaluation,
    best,
    overfit: overfitting(result.losses, result.validationLosses),
    cpu: result.backend instanceof CpuBackend ? result.backend : null,
    peeked:
      best?.chosenOn === 'test'
        ? ' The best epoch was chosen on the held-out part itself (there is no validation part), so its error there is optimistic.'
        : '',
  };
}

/** Writes the model file: the weights kept, the data's setup, the settings and where training stopped. */
async function saveModel(path: string, s: TrainSettings, run: Run, result: TrainedResult): Promise<void> {
  const kept = keptOf(s, result);
  const model = modelToSave(s, run, await result.backend.readParams(), kept.optimizer, kept.training);
  writeFileAtomic(path, modelFileBytes(model, '--save').chunks(), '--save');
}

/** The one JSON object of --json (its fields are the README's "train --json"). */
function jsonReport(s: TrainSettings, run: Run, opened: OpenedBackend, trained: Trained, summary: Summary) {
  const { result, firstEpoch, selection } = trained;
  const { evaluation, best } = summary;
  const { gpu } = opened.backend;
  const finalValidation = result.validationLosses[result.validationLosses.length - 1];
  return {
    backend: result.backend.name,
    adapter: gpu?.adapter ?? null,
    auto: opened.auto,
    fallback: result.switched,
    config: jsonConfig(s, run),
    data: jsonData(run, selection),
    epochs: result.epoch,
    firstEpoch,
    steps: result.steps,
    seconds: result.seconds,
    stepsPerSecond: summary.stepsPerSecond,
    msPerEpoch: summary.msPerEpoch,
    losses: result.losses,
    finalLoss: result.finalLoss,
    validationLosses: result.validationLosses,
    finalValidationLoss: finalValidation?.loss ?? null,
    validationPart: selection?.name ?? null,
    bestEpoch: best,
    stoppedEarly: result.stoppedEarly,
    overfitting: summary.overfit,
    metrics: metricsJson(evaluation),
    baselinesOn: evaluation.comparedOn,
    baselines: baselinesJson(evaluation),
    summary: `${evaluation.summary}${summary.peeked}`,
    diverged: result.diverged,
    threads: summary.cpu?.threads ?? null,
    simd: summary.cpu?.simd ?? null,
    gpu: gpu?.counters() ?? null,
    dispatchesPerStep: gpu?.dispatchesPerStep() ?? null,
  };
}

/** The summary for a person: the errors, the epoch kept, the evaluation and the GPU's counters. */
function printSummary(
  s: TrainSettings,
  backend: Backend,
  trained: Trained,
  summary: Summary,
  log: (line: string) => void,
): void {
  const { result, firstEpoch } = trained;
  const { best, cpu } = summary;
  const finalValidation = result.validationLosses[result.validationLosses.length - 1];
  if (result.diverged === null) {
    log(
      `done: error ${result.losses[firstEpoch - 1]?.toFixed(4)} -> ${result.finalLoss.toFixed(4)}` +
        `${finalValidation ? ` (validation ${finalValidation.loss.toFixed(4)})` : ''} in ${result.seconds.toFixed(2)} s ` +
        `(${Math.round(summary.stepsPerSecond)} steps/s, ${summary.msPerEpoch.toFixed(2)} ms/epoch, ${result.steps} steps` +
        `${cpu === null ? '' : `, ${cpu.threads} CPU thread${cpu.threads === 1 ? '' : 's'}`})`,
    );
  }
  if (best !== null) {
    const early =
      result.stoppedEarly === null ? '' : `; stopped early at epoch ${result.stoppedEarly} (patience ${s.patience})`;
    log(`kept the weights of epoch ${best.epoch}, the lowest ${best.chosenOn} error${early}`);
  }
  if (summary.overfit !== null) log(`note: ${summary.overfit.message}`);
  log(`${summary.evaluation.summary}${summary.peeked}`);
  const counters = backend.gpu?.counters() ?? null;
  if (counters !== null) {
    log(
      `gpu: ${counters.dispatches} dispatches (${backend.gpu?.dispatchesPerStep()?.toFixed(2)} per step), ` +
        `${counters.submits} submits, ${counters.readbacks} readbacks, ${counters.buffersCreated} buffers`,
    );
  }
  if (s.save !== undefined) log(`model saved to ${s.save}`);
}
