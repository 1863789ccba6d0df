// Shared test helpers: reading the float64 fixtures and comparing tensors with stated tolerances.

import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { type Dataset, readBatchFile } from '../src/data/dataset.js';
import { InputError } from '../src/model/errors.js';
import type { ParamLayout } from '../src/model/layout.js';
import { fromNested, type Model, readModelFile } from '../src/train/modelFile.js';
import type { RunSettings } from '../src/train/run.js';
import { FIXTURE_SPECS } from './fixtures/reference64.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const fixturesDir = join(repoRoot, 'tests', 'fixtures', 'gradients');
export const FIXTURE_CASES = FIXTURE_SPECS.map((spec) => spec.name);

/**
 * A new folder under the system's temporary folder, removed with everything in it after the calling
 * file's tests (call it at a file's top level), so the suite leaves nothing behind.
 */
export function temporaryFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** `node` arguments that run the CLI from source, as `npm run cli` does (from repoRoot). */
export const CLI_ARGS = ['--import', 'tsx', '--import', './scripts/register-raw.mjs', 'src/cli/main.ts'];

/**
 * What a Vulkan driver, not the program, prints on stderr: SwiftShader's Wayland probe where
 * VK_ICD_FILENAMES names it by hand (the program quiets it where it picks SwiftShader itself).
 */
const DRIVER_CHATTER = /^error: XDG_RUNTIME_DIR is invalid or not set in the environment\.\n/gm;

/** A child's stderr without the driver's lines, so tests hold with and without VK_ICD_FILENAMES set. */
export const withoutDriverChatter = (stderr: string): string => stderr.replace(DRIVER_CHATTER, '');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in its own process to the end; for what only a process shows (exit statuses set by
 * process.exit, signals, pipes, the environment). `options` may set the environment or stdio.
 */
export function spawnCli(args: string[], options: SpawnSyncOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [...CLI_ARGS, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
    ...options,
  });
  return {
    status: result.status,
    stdout: String(result.stdout ?? ''),
    stderr: withoutDriverChatter(String(result.stderr ?? '')),
  };
}

/**
 * Runs one CLI command in this process (runCli, as main.ts does), capturing what it writes to
 * stdout and stderr and its exit status; no process start, and the worker's device and compiled
 * kernels are reused. Commands run one at a time (the tests of a file run in order).
 */
export async function cli(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const text = (chunk: unknown) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  const line = (values: unknown[]) => `${values.map((v) => (typeof v === 'string' ? v : inspect(v))).join(' ')}\n`;
  const saved = {
    stdout: process.stdout.write,
    stderr: process.stderr.write,
    log: console.log,
    error: console.error,
    warn: console.warn,
    exitCode: process.exitCode,
  };
  process.stdout.write = ((chunk: unknown) => out.push(text(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => err.push(text(chunk)) > 0) as typeof process.stderr.write;
  console.log = (...values: unknown[]) => out.push(line(values));
  console.error = (...values: unknown[]) => err.push(line(values));
  console.warn = console.error;
  process.exitCode = undefined;
  try {
    const status = await runCli(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
    console.log = saved.log;
    console.error = saved.error;
    console.warn = saved.warn;
    process.exitCode = saved.exitCode;
  }
}

export interface Fixture {
  model: Model;
  batch: Dataset;
  expected: { loss: number; y: Float32Array; grads: Float64Array };
}

export function loadFixture(name: string): Fixture {
  const read = (file: string): unknown => JSON.parse(readFileSync(join(fixturesDir, name, file), 'utf8'));
  const model = readModelFile(read('model.json'));
  const batch = readBatchFile(read('batch.json'), model.config);
  const expected = read('expected.json') as { loss: number; y: number[][]; grads: Record<string, unknown> };
  return {
    model,
    batch,
    expected: {
      loss: expected.loss,
      y: Float32Array.from(expected.y.flat()),
      grads: Float64Array.from(fromNested(model.layout, expected.grads)),
    },
  };
}

/** Largest |a - e| over a range, and the largest |e| there. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>, start = 0, end = expected.length) {
  let diff = 0;
  let scale = 0;
  for (let i = start; i < end; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { diff, scale };
}

/** Named tensors of a flat parameter (or gradient) array, for per-tensor tolerances. */
export function tensorRanges(layout: ParamLayout): { name: string; start: number; end: number }[] {
  const ranges: { name: string; start: number; end: number }[] = [];
  layout.layers.forEach((layer, l) => {
    ranges.push({ name: `lstm[${l}].w`, start: layer.w, end: layer.v });
    ranges.push({ name: `lstm[${l}].v`, start: layer.v, end: layer.b });
    ranges.push({ name: `lstm[${l}].b`, start: layer.b, end: layer.b + 4 * layer.hiddenSize });
  });
  ranges.push({ name: 'dense.w', start: layout.dense.w, end: layout.dense.b });
  ranges.push({ name: 'dense.b', start: layout.dense.b, end: layout.size });
  return ranges;
}

/**
 * The fixtures' contract: per tensor, max|a - e| <= tol * max(1, max|e|). Returns the worst ratio of
 * error to allowance (<= 1 passes) per tensor for a readable failure.
 */
export function tensorErrors(layout: ParamLayout, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  return tensorRanges(layout).map(({ name, start, end }) => {
    const { diff, scale } = maxAbsDiff(actual, expected, start, end);
    return { name, diff, allowed: tol * Math.max(1, scale) };
  });
}

/** The blog's task (a noisy sine) as startRun's settings: the same data, weights and batches as any run. */
export function sineRunSettings(task: {
  seed: number;
  points: number;
  noise: number;
  window: number;
  hiddenSizes: number[];
}): RunSettings {
  const { seed, points, noise, window, hiddenSizes } = task;
  return { seed, source: { kind: 'generated', spec: { kind: 'sine', points, noise } }, window, hiddenSizes };
}

/** The blog's windows, written out: sample n is series[n..n+T-1], its target series[n+T]. */
export function windowSeries(series: Float32Array, window: number): Dataset {
  const count = series.length - window;
  const x = new Float32Array(count * window);
  const t = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    x.set(series.subarray(n, n + window), n * window);
    t[n] = series[n + window];
  }
  return { count, window, inputSize: 1, outputSize: 1, x, t };
}

/** The InputError that `run` throws (anything else fails the test). */
export function inputErrorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}
