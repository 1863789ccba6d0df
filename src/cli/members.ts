// `train --members K`: the run's settings trained with K seeds at once (seed, seed + 1, …, one
// population on the chosen backend, src/train/population.ts) on the run's data, each member exactly
// the model its seed trains alone. The output is `train`'s for member 0 (the run's own seed), with
// every member's errors and metrics and the ensemble's (the mean of the members' predictions) beside
// it: a line per report and a summary for a person, or one JSON object with --json.

import { createCpuPopulation } from '../backends/cpu/createCpuBackend.js';
import { nodeThreadHost } from '../backends/cpu/nodeThreads.js';
import type { Population } from '../backends/population.js';
import { selectionPart } from '../data/split.js';
import { InputError } from '../model/errors.js';
import { baselineErrors, comparisonPart, type Evaluation, evaluate, overfitting } from '../train/evaluate.js';
import type { HeldOutForecasts } from '../train/heldOut.js';
import {
  consecutiveSeeds,
  ensembleLevels,
  ensembleMembers,
  keptForecaster,
  memberPartLevels,
  memberStarts,
} from '../train/members.js';
import { modelFileBytes } from '../train/modelFile.js';
import type { PopulationOptions, PopulationReport, PopulationResult } from '../train/population.js';
import { type MemberSpec, type PopulationFallback, trainPopulationToEnd } from '../train/population.js';
import type { Run } from '../train/run.js';
import { continuationOf } from '../train/savedModel.js';
import { printable } from '../util/text.js';
import { type OpenedPopulation, openPopulation } from './backends.js';
import { baselinesJson, evaluationJson, metricsJson } from './evaluationJson.js';
import { writeFileAtomic } from './files.js';
import { heldOutJson, heldOutText } from './forecastReport.js';
import { ensembleToSave } from './saving.js';
import { heldOutOf, jsonConfig, jsonData, startLine } from './trainReport.js';
import { EXIT_DIVERGED, runSettingsFor, type TrainSettings } from './trainSettings.js';

export async function trainMembers(s: TrainSettings, run: Run, log: (line: string) => void): Promise<void> {
  const opened = await openPopulation(s.backend, run.layout, s.members, s.batchSize, s.threads);
  if (!s.json) log(opened.note);
  let finishedOn = opened.population;
  try {
    const trained = await trainAll(s, run, opened.population, log);
    // The population that finished: the CPU's, if the GPU failed on the way.
    finishedOn = trained.population;
    // The ensemble: the members that did not diverge (every one where all did).
    const kept = ensembleMembers(trained.members.map((member) => member.diverged !== null));
    const evaluations = await evaluateMembers(s, run, finishedOn, kept);
    const heldOut = await heldOutOf(s, run, keptForecaster(finishedOn, kept));
    if (s.save !== undefined) {
      const seeds = memberSeeds(s);
      const model = ensembleToSave(
        s,
        run,
        kept.map((m) => trained.members[m]),
        kept.map((m) => seeds[m]),
      );
      writeFileAtomic(s.save, modelFileBytes(model, '--save').chunks(), '--save');
      if (!s.json) log(`ensemble of ${kept.length} members saved to ${printable(s.save)}`);
    }
    if (s.json) log(JSON.stringify(membersJson(s, run, opened, trained, evaluations, heldOut)));
    else printMembers(s, trained, evaluations, log, heldOut, run.unit);
    const diverged = trained.members.filter((m) => m.diverged !== null).length;
    if (diverged === s.members) {
      console.error(`error: every member diverged; member 0: ${trained.members[0].diverged?.message}`);
      process.exitCode = EXIT_DIVERGED;
    }
  } finally {
    await Promise.all([opened.population.dispose(), finishedOn.dispose()]);
  }
}

/** The members' seeds: a loaded ensemble's own, else seed, seed + 1, …. */
function memberSeeds(s: TrainSettings): number[] {
  const loaded = s.load?.members;
  if (loaded === undefined) return consecutiveSeeds(s.seed, s.members);
  if (loaded.length !== s.members) {
    throw new InputError(
      '--members',
      `the loaded model is an ensemble of ${loaded.length} members: give --members ${loaded.length} (or leave it out) to go on with them`,
    );
  }
  return loaded.map((member) => member.seed);
}

/** Every member from its seed's weights (or a loaded ensemble's), on the run's data, to the end. */
async function trainAll(
  s: TrainSettings,
  run: Run,
  population: Population,
  log: (line: string) => void,
): Promise<Trained> {
  const seeds = memberSeeds(s);
  const starts = memberStarts(runSettingsFor(s), run, seeds);
  const loaded = s.load?.members;
  starts.forEach((start, m) => {
    population.setMemberParams(m, loaded?.[m].params ?? start.params);
  });
  // A loaded ensemble's members go on from their epochs: --epochs more after the furthest of them.
  const furthest = loaded ? Math.max(...loaded.map((member) => member.training?.epoch ?? 0)) : 0;
  if (!s.json) {
    log(`${startLine(s, run, furthest + 1, furthest + s.epochs)}, ${s.members} members (seeds ${seeds.join(', ')})`);
  }
  const specs: MemberSpec[] = starts.map((start, m) => {
    const member = loaded?.[m];
    const saved = member?.training;
    const state = member?.optimizer;
    return {
      rng: start.rng,
      learningRate: s.learningRate,
      lrDecay: s.lrDecay,
      optimizer: s.optimizer,
      loss: s.loss,
      ...(state && state.name === s.optimizer.name ? { initialOptimizerState: state } : {}),
      ...(member && saved
        ? { resume: { ...continuationOf(saved, member.params, s.keepBest), params: member.params } }
        : {}),
    };
  });
  const options: PopulationOptions = {
    epochs: furthest + s.epochs,
    batchSize: s.batchSize,
    reportEvery: s.reportEvery,
    validation: selectionPart(run.prepared)?.data ?? null,
    keepBest: s.keepBest,
    patience: s.patience,
  };
  const onReport = s.json ? undefined : (report: PopulationReport) => log(progressLine(report));
  // A failed GPU hands every member to the CPU from its last report.
  const fallback: PopulationFallback | undefined =
    population.name === 'webgpu'
      ? {
          create: () => createCpuPopulation(run.layout, s.members, { threads: s.threads, host: nodeThreadHost }),
          onSwitch: (message) => console.error(`warning: ${message} on the cpu backend`),
        }
      : undefined;
  return trainPopulationToEnd(population, run.prepared.train, specs, options, onReport, fallback);
}

/** What training gave: every member's result, and the backend it moved to if one failed. */
type Trained = PopulationResult & { population: Population; switched: string | null };

interface Evaluations {
  members: Evaluation[];
  ensemble: Evaluation;
  /** The members in the ensemble (indices): those that did not diverge. */
  kept: number[];
}

/** Each member's errors in the data's units, and the ensemble's (the mean of the `kept` members' predictions). */
async function evaluateMembers(
  s: TrainSettings,
  run: Run,
  population: Population,
  kept: number[],
): Promise<Evaluations> {
  const { prepared } = run;
  const baselines = baselineErrors(prepared, comparisonPart(prepared), s.loss);
  const levels = await memberPartLevels(population, prepared);
  return {
    members: levels.map((parts) => evaluate(prepared, parts, baselines, run.unit)),
    ensemble: evaluate(prepared, ensembleLevels(kept.map((m) => levels[m])), baselines, run.unit),
    kept,
  };
}

/** A report's line: the epoch and the members' mean errors. */
function progressLine(report: PopulationReport): string {
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const errors = report.members.map((m) => m.losses[m.losses.length - 1]).filter(Number.isFinite);
  const validation = report.members
    .map((m) => m.validationLosses[m.validationLosses.length - 1]?.loss)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  return (
    `epoch ${String(report.epoch).padStart(String(report.epochs).length)}/${report.epochs}  mean error ${mean(errors).toFixed(5)}` +
    `${validation.length > 0 ? `  mean validation ${mean(validation).toFixed(5)}` : ''}  ` +
    `${Math.round(report.memberSteps / report.seconds)} member-steps/s`
  );
}

function printMembers(
  s: TrainSettings,
  trained: PopulationResult,
  evaluations: Evaluations,
  log: (line: string) => void,
  heldOut: HeldOutForecasts | string,
  unit: string | null,
) {
  const rate = Math.round(trained.memberSteps / trained.seconds);
  const seeds = memberSeeds(s);
  log(`done: ${s.members} members in ${trained.seconds.toFixed(2)} s (${rate} member-steps/s)`);
  trained.members.forEach((member, m) => {
    const fate =
      member.diverged !== null ? `diverged at epoch ${member.diverged.epoch}` : `error ${member.finalLoss.toFixed(4)}`;
    const kept = member.best === null ? '' : `, kept epoch ${member.best.epoch}`;
    log(`  member ${m} (seed ${seeds[m]}): ${fate}${kept}; ${evaluations.members[m].summary}`);
  });
  const { kept } = evaluations;
  const without = kept.length < s.members ? `; the ${s.members - kept.length} that diverged left out` : '';
  log(`ensemble (the mean of ${kept.length} members${without}): ${evaluations.ensemble.summary}`);
  log(`ensemble on the held-out part, step by step (the members' mean forecast, their spread the ensemble interval):`);
  for (const line of heldOutText(heldOut, unit)) log(line);
}

/** `train --members K --json`: member 0's fields as `train --json` has them, every member's, and the ensemble's. */
function membersJson(
  s: TrainSettings,
  run: Run,
  opened: OpenedPopulation,
  trained: Trained,
  evaluations: Evaluations,
  heldOut: HeldOutForecasts | string,
) {
  const first = trained.members[0];
  const seeds = memberSeeds(s);
  const selection = selectionPart(run.prepared);
  const { gpu } = opened.population;
  const stepsPerEpoch = Math.floor(run.prepared.train.count / s.batchSize);
  return {
    backend: opened.population.name,
    adapter: gpu?.adapter ?? null,
    auto: opened.auto,
    fallback: trained.switched,
    config: { ...jsonConfig(s, run), members: s.members },
    data: jsonData(run, selection),
    epochs: first.epoch,
    firstEpoch: 1,
    steps: first.steps,
    seconds: trained.seconds,
    stepsPerSecond: (first.epoch * stepsPerEpoch) / trained.seconds,
    memberStepsPerSecond: trained.memberSteps / trained.seconds,
    losses: first.losses,
    finalLoss: first.finalLoss,
    validationLosses: first.validationLosses,
    bestEpoch: first.best?.epoch ?? null,
    stoppedEarly: first.stoppedEarly,
    metrics: metricsJson(evaluations.members[0]),
    baselinesOn: evaluations.members[0].comparedOn,
    baselines: baselinesJson(evaluations.members[0]),
    summary: evaluations.members[0].summary,
    diverged: first.diverged,
    members: trained.members.map((member, m) => ({
      seed: seeds[m],
      losses: member.losses,
      validationLosses: member.validationLosses,
      finalLoss: member.finalLoss,
      bestEpoch: member.best?.epoch ?? null,
      stoppedEarly: member.stoppedEarly,
      overfitting: overfitting(member.losses, member.validationLosses),
      metrics: metricsJson(evaluations.members[m]),
      diverged: member.diverged,
    })),
    // The ensemble: the mean of the members that did not diverge (every one where all did), by seed.
    ensemble: { seeds: evaluations.kept.map((m) => seeds[m]), ...evaluationJson(evaluations.ensemble) },
    // The ensemble's: the mean of its members' forecasts, and their spread.
    ...heldOutJson(heldOut),
    gpu: gpu?.counters() ?? null,
    dispatchesPerStep: gpu?.dispatchesPerStep() ?? null,
  };
}
