// `search --lr 0.001,0.003,0.01 --hidden 8,16,32 --window 10,24 --seeds 4 [training and data options]`:
// every configuration of the grid trained with every seed (src/train/search.ts: one population per
// shape), the one with the lowest mean validation RMSE chosen (the test part is reported, never used
// to choose), and its ensemble evaluated. A line as each configuration finishes and a table by
// default; with --json, exactly one JSON object (docs/FILE-FORMATS.md, "search --json").

import { trainStepFlops } from '../model/flops.js';
import { type ParamLayout, paramLayout } from '../model/layout.js';
import { SEARCH_SETTINGS as G } from '../settings/search.js';
import { sourceDefault } from '../settings/training.js';
import { modelFileBytes } from '../train/modelFile.js';
import { sharedTraining } from '../train/population.js';
import { defaultsKeyOf, startRun } from '../train/run.js';
import { type Configuration, runSearch, type SearchResult, type SearchSettings, type Spread } from '../train/search.js';
import { printable } from '../util/text.js';
import { PopulationOpener } from './backends.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import { evaluationJson } from './evaluationJson.js';
import { checkWritablePath, writeFileAtomic } from './files.js';
import { heldOutJson, heldOutText } from './forecastReport.js';
import { option, parseOptions } from './options.js';
import { ensembleToSave, keptOf, modelToSave } from './saving.js';
import { readTrainSettings, runSettingsFor, type TrainSettings } from './trainSettings.js';

/** The grid's options: lists here, single values in `train`. */
const GRID_OPTIONS = ['lr', 'hidden', 'window', 'seeds'] as const;

export interface SearchCommandSettings {
  train: TrainSettings;
  search: SearchSettings;
  json: boolean;
  /** Where to write the chosen configuration's ensemble, if anywhere. */
  save: string | undefined;
  /** Lines for a person about defaults the search chose (a validation part it needs). */
  notes: string[];
}

export function readSearchSettings(argv: string[]): SearchCommandSettings {
  const values = parseOptions('search', argv, commandOptions('search'));
  const train = readTrainSettings(withoutGrid(argv), 'search');
  const notes: string[] = [];
  const { seed, hiddenSizes, window, ...run } = runSettingsFor(train);
  // A search chooses on the validation part: a source without one by default gets the real data's split.
  const key = defaultsKeyOf(run.source);
  if (train.data.validationFraction === undefined && sourceDefault('validation', key) === 0) {
    run.trainFraction = train.data.trainFraction ?? 0.8;
    run.validationFraction = 0.1;
    notes.push(
      `note: a search chooses on a validation part; the ${run.trainFraction * 100}% of rows before the test part end with one of 10% (--validation to change it)`,
    );
  }
  const seeds = option(values, G.seeds);
  return {
    train,
    search: {
      run,
      grid: {
        learningRates: option(values, G.lr) ?? [train.learningRate],
        hiddenSizes: option(values, G.hidden) ?? [hiddenSizes],
        windows: option(values, G.window) ?? [window],
        seeds: Array.from({ length: seeds }, (_, i) => seed + i),
      },
      training: sharedTraining(train),
      heldOut: { horizon: train.horizon, levels: train.levels },
    },
    json: option(values, CLI_SETTINGS.json),
    save: train.save,
    notes,
  };
}

/** argv without the grid's options (and their values), for the training options' reader. */
function withoutGrid(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = GRID_OPTIONS.find((g) => argv[i] === `--${g}` || argv[i].startsWith(`--${g}=`));
    if (name === undefined) out.push(argv[i]);
    else if (argv[i] === `--${name}`) i++;
  }
  return out;
}

export async function searchCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const s = readSearchSettings(argv);
  // A save that cannot work is refused now, not after the whole search.
  if (s.save !== undefined) checkWritablePath(s.save, '--save');
  for (const line of [...s.train.data.notes, ...s.notes]) console.error(printable(line));
  const opener = new PopulationOpener(s.train.backend, s.train.threads);
  if (s.train.backend === 'auto') {
    // Only `auto` races, so only it reads the data to size the grid's largest shape.
    const largest = largestPopulation(s.search);
    await opener.raceFirst(largest.layout, largest.members, largest.batch);
  }
  const result = await runSearch(
    // A saved ensemble carries its members' training errors: only then does every epoch compute them.
    { ...s.search, keepHistory: s.save !== undefined },
    async (layout, members, batch) => {
      const first = opener.note === '';
      const opened = await opener.open(layout, members, batch);
      if (first && !s.json) log(opened.note);
      return opened.population;
    },
    (configuration, done, total) => {
      if (!s.json) log(`${done}/${total}  ${describe(configuration)}`);
    },
  );
  if (s.save !== undefined) saveChosen(s.save, s, result);
  if (s.json) log(JSON.stringify(searchJson(result, opener.note)));
  else for (const line of searchText(result)) log(line);
  if (s.save !== undefined && !s.json) log(`the chosen configuration's ensemble saved to ${printable(s.save)}`);
}

/** The grid's population with the most work a step (its shapes differ in hidden sizes and window only). */
export function largestPopulation(search: SearchSettings): { layout: ParamLayout; members: number; batch: number } {
  const { grid, run, training } = search;
  const first = startRun({ ...run, window: grid.windows[0], hiddenSizes: grid.hiddenSizes[0], seed: grid.seeds[0] });
  const { inputSize, outputSize } = first.layout.config;
  const batch = training.batchSize;
  const flops = (layout: ParamLayout) => trainStepFlops(layout.config, batch);
  const layout = grid.windows
    .flatMap((window) =>
      grid.hiddenSizes.map((hiddenSizes) => paramLayout({ inputSize, outputSize, hiddenSizes, window })),
    )
    .reduce((largest, layout) => (flops(layout) > flops(largest) ? layout : largest));
  return { layout, members: grid.learningRates.length * grid.seeds.length, batch };
}

/** Writes the chosen ensemble's seeds as an ensemble model file (one model where it has one seed). */
function saveChosen(path: string, s: SearchCommandSettings, result: SearchResult): void {
  const chosen = result.configurations[result.chosen.index];
  const { run, results, seeds } = result.chosenRun;
  const settings: TrainSettings = {
    ...s.train,
    learningRate: chosen.lr,
    hiddenSizes: chosen.hidden,
    window: chosen.window,
    seed: seeds[0],
    members: seeds.length,
  };
  const model =
    results.length === 1
      ? (() => {
          const kept = keptOf(settings, results[0]);
          return modelToSave(settings, run, results[0].params, kept.optimizer, kept.training);
        })()
      : ensembleToSave(settings, run, results, seeds);
  writeFileAtomic(path, modelFileBytes(model, '--save').chunks(), '--save');
}

function describe(c: Configuration): string {
  return (
    `lr ${c.lr}, hidden ${c.hidden.join('/')}, window ${c.window}: validation ${spreadText(c.validation)}, ` +
    `test ${spreadText(c.test)}${diverged(c)}`
  );
}

function diverged(c: Configuration): string {
  const count = c.members.filter((m) => m.diverged).length;
  return count === 0 ? '' : ` (${count} of ${c.members.length} seeds diverged)`;
}

function spreadText(spread: Spread | null): string {
  if (spread === null) return '–';
  const f = (v: number) => v.toPrecision(3);
  return spread.min === spread.max ? f(spread.mean) : `${f(spread.mean)} (${f(spread.min)}–${f(spread.max)})`;
}

/** The table for a person: every configuration, the chosen one marked, why, and its ensemble. */
function searchText(result: SearchResult): string[] {
  const { unit } = result.ensemble;
  const header = ['', 'lr', 'hidden', 'window', `validation RMSE${unit ? ` (${unit})` : ''}`, 'test RMSE'];
  const rows = result.configurations.map((c) => [
    c.index === result.chosen.index ? '*' : '',
    String(c.lr),
    c.hidden.join('/'),
    String(c.window),
    spreadText(c.validation),
    spreadText(c.test),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const seeds = result.configurations[0]?.seeds.length ?? 0;
  const inEnsemble = result.chosenRun.seeds.length;
  const without = inEnsemble < seeds ? ` (the ${seeds - inEnsemble} that diverged left out)` : '';
  return [
    line(header),
    ...rows.map(line),
    `chosen (*): ${result.chosen.reason}`,
    `its ensemble of ${inEnsemble} seed${inEnsemble === 1 ? '' : 's'}${without}: ${result.ensemble.summary}`,
    ...heldOutText(result.heldOut, result.ensemble.unit),
    `${result.configurations.length} configurations × ${seeds} seeds in ${result.seconds.toFixed(1)} s`,
  ];
}

/** `search --json` (docs/FILE-FORMATS.md). */
function searchJson(result: SearchResult, backend: string) {
  return {
    backend,
    seconds: result.seconds,
    unit: result.ensemble.unit,
    configurations: result.configurations.map((c) => ({
      index: c.index,
      lr: c.lr,
      hidden: c.hidden,
      window: c.window,
      seeds: c.seeds,
      validation: c.validation,
      test: c.test,
      members: c.members,
    })),
    chosen: result.chosen,
    ensemble: { seeds: result.chosenRun.seeds, ...evaluationJson(result.ensemble), ...heldOutJson(result.heldOut) },
  };
}
