// The one way a run starts, for the CLI, the app, the tests and the scripts: on any data source (a
// generated series, the blog's noisy sine by default; a bundled real series; a table the caller
// parsed, the user's CSV), through prepareData (columns, chronological split, normalization fitted on
// the training rows). The seeded generator draws in the blog's order: data noise, then initial
// weights, then (during training) the minibatch orders, so every backend sees the same run. The setup
// itself is runSetup.ts's; this file adds the bundled series (parsed as CSV) to the sources it reads.

import { BUNDLED_UNITS, loadBundledSeries } from '../data/bundled.js';
import type { Rng } from '../data/rng.js';
import type { Model } from './modelFile.js';
import {
  type DataSource,
  type Run,
  type RunSettings,
  rowPositions,
  type SourceTable,
  startRunWith,
  tableOrGenerated,
} from './runSetup.js';

export {
  type DataSource,
  defaultsKeyOf,
  type Run,
  type RunSettings,
  resolveDataSettings,
  resolveSeason,
  type SourceTable,
} from './runSetup.js';

/** The table of any data source: a generated series, a bundled one, or a table the caller parsed. */
export function sourceTable(source: DataSource, rng: Rng): SourceTable {
  if (source.kind !== 'bundled') return tableOrGenerated(source, rng);
  const table = loadBundledSeries(source.name, source.options);
  const label = `bundled ${source.name}`;
  return { table, positions: rowPositions(table.rows), label, unit: BUNDLED_UNITS[source.name] };
}

/**
 * Sets up a run. With `model` (a loaded model file) training goes on from its weights: its shape must
 * match the data's columns and the window.
 */
export function startRun(settings: RunSettings, model?: Model): Run {
  return startRunWith(sourceTable, settings, model);
}
