// An evaluation (src/train/evaluate.ts) as the CLI's JSON gives it: the errors per part in the data's
// units, the baselines on the same rows, and the sentence. `train --json` has it for the model,
// `train --members --json` and `search --json` for ensembles too (docs/FILE-FORMATS.md).

import type { Evaluation, PartErrors } from '../train/evaluate.js';

export function errorsOf(part: PartErrors | null): { rmse: number[]; mae: number[] } | null {
  return part === null ? null : { rmse: part.rmse, mae: part.mae };
}

/** `metrics`: the columns, their unit, and each part's RMSE and MAE per column (null without the part). */
export function metricsJson(evaluation: Evaluation) {
  return {
    columns: evaluation.columns,
    unit: evaluation.unit,
    train: errorsOf(evaluation.model.train),
    validation: errorsOf(evaluation.model.validation),
    test: errorsOf(evaluation.model.test),
  };
}

/** `baselines`: each baseline's errors on the rows the sentence compares (null where it does not apply). */
export function baselinesJson(evaluation: Evaluation) {
  return evaluation.baselines.map(({ key, label, errors, skipped }) => ({
    key,
    label,
    rmse: errors?.rmse ?? null,
    mae: errors?.mae ?? null,
    skipped,
  }));
}

/** The whole evaluation: metrics, baselines (and where they were measured) and the sentence. */
export function evaluationJson(evaluation: Evaluation) {
  return {
    metrics: metricsJson(evaluation),
    baselinesOn: evaluation.comparedOn,
    baselines: baselinesJson(evaluation),
    summary: evaluation.summary,
  };
}
