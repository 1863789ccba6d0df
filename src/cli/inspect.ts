// `inspect --model FILE [data options] [--window N | --windows a,b] [--json]`: inside a saved model.
// The data (the model's own unless a source option names other data) is prepared as training
// prepares it (transform, split, normalization), and the CPU backend's probe (Backend.probe) reads
// every layer's gates, cell and hidden state over the chosen windows, and over the held-out windows
// (the test part; else the validation part; else the training windows) for the summaries of
// src/forecast/inside.ts: gate saturation, dead units, and connectivity per lag beside the AR
// baseline's. Prints a short text summary per layer, or with --json the whole (docs/CLI.md, "inspect").
//
// Legend: W = the data's windows (numbered 0.. by target row: window k predicts row L + T + k),
// T = window, I = inputSize, H = hidden size of a layer, O = outputSize, L = the transform's lag.

import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import type { PreparedData } from '../data/prepare.js';
import {
  type DeadUnit,
  deadUnits,
  type GateSaturation,
  type LagConnectivity,
  lagConnectivity,
  lagTotals,
  preparedArConnectivity,
  type Reliance,
  reliance,
  saturation,
  windowInputs,
} from '../forecast/inside.js';
import { InputError } from '../model/errors.js';
import { PROBED, type WindowProbe } from '../model/probe.js';
import { SETTINGS } from '../settings/training.js';
import type { Model } from '../train/modelFile.js';
import { startRun } from '../train/run.js';
import { CLI_SETTINGS, commandOptions, INSPECT_WINDOW, INSPECT_WINDOWS } from './commands.js';
import { readDataOptions } from './dataOptions.js';
import { noteMemberZero, readModelOption } from './files.js';
import { option, optionValue, type ParsedOptions, parseOptions, requiredOption } from './options.js';
import { runSettingsFor } from './trainSettings.js';

/** Most held-out windows the summaries read (the last ones): the probe costs a backward pass per output each. */
export const MAX_SUMMARY_WINDOWS = 2000;
/** Most windows --windows may name: each prints T × H numbers per gate and state. */
export const MAX_INSPECT_WINDOWS = 100;

export type PartName = 'train' | 'validation' | 'test';

/** The windows the summaries read: a part's, numbered first..first+count-1. */
export interface SummaryWindows {
  part: PartName;
  first: number;
  count: number;
}

/** Per output: the model's connectivity per lag and the AR baseline's, each with its reliance. */
export interface OutputConnectivity {
  output: string;
  model: number[][];
  reliance: Reliance;
  ar: number[][] | null;
  arReliance: Reliance | null;
}

export interface Inspection {
  model: Model;
  prepared: PreparedData;
  label: string;
  /** The data's windows, W. */
  windowCount: number;
  summary: SummaryWindows;
  /** Why there is no AR baseline (too few windows), or null. */
  arSkipped: string | null;
  chosen: { index: number; probe: WindowProbe }[];
  saturation: GateSaturation[];
  dead: DeadUnit[];
  connectivity: OutputConnectivity[];
}

export async function inspectCommand(argv: string[], write: (text: string) => void): Promise<void> {
  const values = parseOptions('inspect', argv, commandOptions('inspect'));
  const model = readModelOption(requiredOption(values, CLI_SETTINGS.model), '--model');
  noteMemberZero(model, (member) => `inside ${member}, one network of them`);
  const inspection = await inspect(values, model);
  write(
    option(values, CLI_SETTINGS.json) ? `${JSON.stringify(inspectionJson(inspection))}\n` : inspectionText(inspection),
  );
}

/** The model's data prepared as training prepares it (the model's own unless an option names other data). */
function preparedFor(values: ParsedOptions, model: Model): { prepared: PreparedData; label: string } {
  const { window, hiddenSizes } = model.config;
  const data = readDataOptions(values, window, model);
  for (const note of data.notes) console.error(note);
  const seed = option(values, SETTINGS.seed, model.settings?.seed);
  // startRun refuses data whose columns or window do not fit the model, naming --load: say --model.
  try {
    const run = startRun(runSettingsFor({ seed, window, hiddenSizes, data }), model);
    return { prepared: run.prepared, label: run.label };
  } catch (err) {
    if (err instanceof InputError && err.field === '--load')
      throw new InputError('--model', err.message.replace(/^[^:]*: /, ''));
    throw err;
  }
}

/** How many windows the data has, and the part whose windows the summaries read. */
function windowsOf(prepared: PreparedData): { count: number; summary: SummaryWindows } {
  const T = prepared.train.window;
  const L = prepared.transform.lag;
  const count = prepared.testTargets.end - L - T;
  const part = (name: PartName, range: { start: number; end: number }): SummaryWindows => {
    const start = Math.max(range.start, range.end - MAX_SUMMARY_WINDOWS);
    return { part: name, first: start - L - T, count: range.end - start };
  };
  const summary =
    prepared.testTargets.end > prepared.testTargets.start
      ? part('test', prepared.testTargets)
      : prepared.validationTargets.end > prepared.validationTargets.start
        ? part('validation', prepared.validationTargets)
        : part('train', prepared.trainTargets);
  return { count, summary };
}

/** The windows --window or --windows name (default: the last summary window), each checked against 0..W-1. */
export function chosenWindows(values: ParsedOptions, count: number, summary: SummaryWindows): number[] {
  const one = optionValue(values, INSPECT_WINDOW);
  const several = optionValue(values, INSPECT_WINDOWS);
  if (one !== undefined && several !== undefined) {
    throw new InputError('--windows', 'cannot be combined with --window: give one');
  }
  const field = several !== undefined ? '--windows' : '--window';
  const chosen = several ?? one ?? [summary.first + summary.count - 1];
  if (chosen.length > MAX_INSPECT_WINDOWS) {
    throw new InputError(field, `expected at most ${MAX_INSPECT_WINDOWS} windows, got ${chosen.length}`);
  }
  const last = summary.first + summary.count - 1;
  for (const index of chosen) {
    if (index >= count) {
      throw new InputError(
        field,
        `expected a window from 0 to ${count - 1} (this data has ${count} windows; the ${summary.part} windows are ${summary.first} to ${last}), got ${index}`,
      );
    }
  }
  return chosen;
}

function windowsInputs(prepared: PreparedData, indices: readonly number[]): Float32Array {
  const size = prepared.train.window * prepared.inputs.length;
  const x = new Float32Array(indices.length * size);
  indices.forEach((index, n) => {
    x.set(windowInputs(prepared, index), n * size);
  });
  return x;
}

/** Probes the chosen and the summary windows on the CPU backend and summarises them. */
export async function inspect(values: ParsedOptions, model: Model): Promise<Inspection> {
  const { prepared, label } = preparedFor(values, model);
  const { count, summary } = windowsOf(prepared);
  const chosen = chosenWindows(values, count, summary);
  const { window: T, inputSize: I } = model.config;
  const backend = new CpuBackend(model.layout, { kernels: 'reference' });
  let probes: WindowProbe[];
  let summaryProbes: WindowProbe[];
  try {
    backend.setParams(model.params);
    probes = await backend.probe(windowsInputs(prepared, chosen), chosen.length);
    const indices = Array.from({ length: summary.count }, (_, n) => summary.first + n);
    summaryProbes = await backend.probe(windowsInputs(prepared, indices), indices.length);
  } finally {
    await backend.dispose();
  }
  const fit = preparedArConnectivity(prepared);
  const ar = typeof fit === 'string' ? null : fit;
  return {
    model,
    prepared,
    label,
    windowCount: count,
    summary,
    arSkipped: typeof fit === 'string' ? fit : null,
    chosen: chosen.map((index, n) => ({ index, probe: probes[n] })),
    saturation: saturation(summaryProbes, T),
    dead: deadUnits(summaryProbes, T),
    connectivity: outputConnectivity(prepared, lagConnectivity(summaryProbes, T, I), ar),
  };
}

function outputConnectivity(
  prepared: PreparedData,
  model: LagConnectivity,
  ar: LagConnectivity | null,
): OutputConnectivity[] {
  const T = prepared.train.window;
  const several = prepared.outputs.length > 1;
  return prepared.outputs.map((output, o) => {
    const who = several ? `the model's ${JSON.stringify(output)}` : 'the model';
    const arWho = several ? `AR(${T})'s ${JSON.stringify(output)}` : `AR(${T})`;
    return {
      output,
      model: model[o],
      reliance: reliance(lagTotals(model[o]), who),
      ar: ar === null ? null : ar[o],
      arReliance: ar === null ? null : reliance(lagTotals(ar[o]), arWho),
    };
  });
}

/** (T, H) row-major as [T][H] rows. */
function rows(values: ArrayLike<number>, width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, t) =>
    Array.from({ length: width }, (_, j) => values[t * width + j]),
  );
}

/** The part window k's target row lies in. */
function partOf(prepared: PreparedData, index: number): PartName {
  const row = prepared.transform.lag + prepared.train.window + index;
  return row >= prepared.testTargets.start ? 'test' : row >= prepared.validationTargets.start ? 'validation' : 'train';
}

/** The --json object (docs/CLI.md, "inspect"). */
export function inspectionJson(s: Inspection) {
  const { prepared } = s;
  const { window: T, inputSize: I, outputSize: O } = s.model.config;
  const windows = s.chosen.map(({ index, probe }) => ({
    index,
    targetRow: prepared.transform.lag + T + index,
    part: partOf(prepared, index),
    x: rows(windowInputs(prepared, index), I),
    outputs: Array.from(probe.outputs),
    layers: probe.layers.map((layer) =>
      Object.fromEntries(PROBED.map((key) => [key, rows(layer[key], layer[key].length / T)])),
    ),
    connectivity: Array.from({ length: O }, (_, o) =>
      rows(probe.connectivity.subarray(o * T * I, (o + 1) * T * I), I).reverse(),
    ),
  }));
  return {
    config: s.model.config,
    data: s.label,
    inputs: prepared.inputs,
    outputs: prepared.outputs,
    windowCount: s.windowCount,
    summaryWindows: s.summary,
    windows,
    saturation: s.saturation,
    deadUnits: s.dead,
    connectivity: s.connectivity.map((c) => ({
      output: c.output,
      model: c.model,
      lags: c.reliance.lags,
      sentence: c.reliance.sentence,
      ar: c.ar,
      arLags: c.arReliance?.lags ?? null,
      arSentence: c.arReliance?.sentence ?? null,
      arSkipped: s.arSkipped,
    })),
  };
}

const percent = (share: number) => `${Math.round(100 * share)}%`;
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
const numbers = (values: number[]) => values.map((v) => v.toPrecision(3)).join(' ');

/** The default output: per layer its dead units and saturated shares, per output the lags that matter. */
export function inspectionText(s: Inspection): string {
  const { part, first, count } = s.summary;
  const lines: string[] = [];
  lines.push(
    `model: hiddenSizes [${s.model.config.hiddenSizes.join(', ')}], window ${s.model.config.window}, on ${s.label}`,
  );
  lines.push(
    `summaries over the ${count} ${part} windows (${first} to ${first + count - 1} of 0 to ${s.windowCount - 1})${part === 'train' ? ': no held-out part, so the windows it trained on' : ''}`,
  );
  s.model.config.hiddenSizes.forEach((H, layer) => {
    const dead = s.dead.filter((d) => d.layer === layer).map((d) => d.unit);
    const deadText = dead.length === 0 ? 'no dead units' : `${dead.length} dead unit(s): ${dead.join(', ')}`;
    lines.push(`layer ${layer} (${H} units): ${deadText}`);
    const gates = s.saturation
      .filter((g) => g.layer === layer)
      .map((g) => `${g.gate} ${percent(mean(g.left))} / ${percent(mean(g.right))}`);
    lines.push(`  saturated (share of unit-steps in the lowest / highest tenth of the range): ${gates.join(', ')}`);
  });
  for (const c of s.connectivity) {
    lines.push(`connectivity of ${JSON.stringify(c.output)}: ${c.reliance.sentence}`);
    lines.push(`  mean |d output / d input| by lag 1..${c.model.length}: ${numbers(lagTotals(c.model))}`);
    if (c.ar === null || c.arReliance === null) lines.push(`  no AR baseline: ${s.arSkipped}`);
    else {
      lines.push(`  ${c.arReliance.sentence}`);
      lines.push(`  AR |coefficients| (normalized units) by lag 1..${c.ar.length}: ${numbers(lagTotals(c.ar))}`);
    }
  }
  lines.push(
    `windows probed: ${s.chosen.map((c) => c.index).join(', ')} (--json prints their gates, cell and hidden states)`,
  );
  return `${lines.join('\n')}\n`;
}
