// The CPU backend against the blog's numpy program at larger sizes, on one and on more threads, side
// by side in one run:
//   npm run bench:cpu-sizes -- [--reps 5] [--sizes 256x64,512x256] [--threads 1,2] [--json]
//     [--numpy scripts/blog_lstm.py]
//
// Per size (hidden H x batch B, window 10, 10 minibatches an epoch, the per-epoch error over all
// samples included on both sides, as the blog's program does): each repetition runs, each in a fresh
// process, in an order rotated every repetition so that load on a shared machine falls on all alike,
// our CPU backend (createCpuBackend: the fast kernels, relaxed SIMD where the engine has it) on each
// thread count, and the numpy program with OPENBLAS_NUM_THREADS at each count (OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE unset, as a user's numpy runs). Steps/s is each program's own clock around its
// epochs loop (our thread count is measured or set before it). Reported: medians and spreads, and
// the medians of the per-repetition ratios ours / numpy at the same thread count and ours n threads /
// ours 1 thread.
//
// Beside those, ours on n threads and on one in one process, epochs alternating ("paired"): the
// median of each pair's ratio of epoch times. On this project's shared 2-vCPU machines the speed of
// the cores swings for seconds at a time, so two runs a few seconds apart can meet different
// machines; a pair meets the same one.
//
// And what the machine itself gives n cores: n one-thread runs of ours at once, in n processes that
// share nothing ("ours 1t xn"): their steps together over the time from the first one's start to the
// last one's end (summing each run's own steps/s would count the time one ran alone, after the
// other ended, as if both still ran). Its ratio to one run alone is about the most any split of one
// run across n threads could reach here: on a virtual machine whose cores slow each other down (a
// shared clock budget, a neighbour on the same physical core) it is well under n.

import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../src/backends/cpu/createCpuBackend.js';
import { allowRelaxedSimd, nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { type Summary, summarise } from './summary.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const WINDOW = 10;
const STEPS_PER_EPOCH = 10;
/** Small enough that no size diverges; speed does not depend on it. */
const LEARNING_RATE = 1e-4;

interface Size {
  hidden: number;
  batch: number;
}

/** Epochs per run: about 3 s of ours on one thread at 30 GFLOP/s (a step is about 24·B·T·H² FLOPs), 2 to 20. */
function epochsFor({ hidden, batch }: Size): number {
  const stepSeconds = (24 * batch * WINDOW * hidden * hidden) / 30e9;
  return Math.max(2, Math.min(20, Math.round(3 / (stepSeconds * STEPS_PER_EPOCH))));
}

interface RunResult {
  stepsPerSecond: number;
  threads: number;
  simd: string | null;
}

/** A child run of ours: its result, its steps and when its epochs loop began and ended (ms, wall clock). */
interface ChildRun extends RunResult {
  steps: number;
  startMs: number;
  endMs: number;
}

/** The run every program of ours trains: the blog's noisy sine, long enough for STEPS_PER_EPOCH minibatches. */
function benchRun(size: Size, seed: number) {
  return startRun({
    seed,
    source: { kind: 'generated', spec: { kind: 'sine', points: WINDOW + size.batch * STEPS_PER_EPOCH, noise: 0.1 } },
    window: WINDOW,
    hiddenSizes: [size.hidden],
  });
}

/** Our CPU backend for `run` on `threads` threads, its parameters set. */
async function oursOn(run: ReturnType<typeof benchRun>, threads: number) {
  allowRelaxedSimd();
  const backend = await createCpuBackend(run.layout, { threads, host: nodeThreadHost });
  if (backend.threadsNote !== null) throw new Error(backend.threadsNote);
  backend.setParams(run.params);
  return backend;
}

/** One run of ours in this process (the child side of runFresh). */
async function runOurs(size: Size, threads: number, seed: number): Promise<ChildRun> {
  const run = benchRun(size, seed);
  const backend = await oursOn(run, threads);
  const epochs = epochsFor(size);
  const options = { epochs, batchSize: size.batch, learningRate: LEARNING_RATE, reportEvery: epochs };
  const result = await trainToEnd(backend, run.prepared.train, run.rng, options);
  const endMs = performance.timeOrigin + performance.now();
  const out = {
    stepsPerSecond: result.steps / result.seconds,
    threads: backend.threads,
    simd: backend.simd,
    steps: result.steps,
    startMs: endMs - 1000 * result.seconds,
    endMs,
  };
  backend.dispose();
  return out;
}

/**
 * Ours on one thread and on `threads` in this process (the child side of runPaired): epochs as the
 * trainer runs them (the minibatches, then the error over all samples), alternating, the order
 * flipped each pair; returns each pair's one-thread epoch time over the `threads` one's.
 */
async function runPairedHere(size: Size, threads: number, seed: number): Promise<number[]> {
  const sides = await Promise.all(
    [1, threads].map(async (count) => {
      const run = benchRun(size, seed);
      const backend = await oursOn(run, count);
      backend.setOptimizer(DEFAULT_OPTIMIZER, 'sse');
      backend.setTrainingData(run.prepared.train, size.batch);
      if (backend.threads !== count) throw new Error(`ours paired: ${backend.threads} threads, not ${count}`);
      return { run, backend, order: new Uint32Array(run.prepared.train.count), ms: 0 };
    }),
  );
  const ratios: number[] = [];
  for (let pair = 0; pair < epochsFor(size); pair++) {
    for (const side of pair % 2 === 0 ? sides : [...sides].reverse()) {
      side.run.rng.permutation(side.order);
      const start = performance.now();
      await side.backend.trainEpoch(side.order, LEARNING_RATE);
      await side.backend.readLosses();
      side.ms = performance.now() - start;
    }
    ratios.push(sides[0].ms / sides[1].ms);
  }
  for (const side of sides) side.backend.dispose();
  return ratios;
}

/** One of the programs timed: ours or numpy on `threads` threads, or `threads` one-thread runs of ours at once. */
type Program = { kind: 'ours' | 'numpy' | 'apart'; threads: number };

function label(p: Program): string {
  return p.kind === 'apart' ? `ours 1t x${p.threads}` : `${p.kind} ${p.threads}t`;
}

/** This process's environment less the OpenBLAS tuning overrides a user's numpy does not have. */
function numpyEnv(threads: number): NodeJS.ProcessEnv {
  const { OPENBLAS_CORETYPE: _coreType, OPENBLAS_L2_SIZE: _l2Size, ...env } = process.env;
  return { ...env, OPENBLAS_NUM_THREADS: String(threads) };
}

/** A child process's output and exit status. */
function finished(child: ChildProcess): Promise<{ status: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** This script in a fresh process, on its child side `mode` (--child: runOurs, --paired: runPairedHere). */
function spawnOurs(mode: '--child' | '--paired', size: Size, threads: number, seed: number): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...['--import', 'tsx', '--import', './scripts/register-raw.mjs', fileURLToPath(import.meta.url), mode],
      ...[String(size.hidden), String(size.batch), String(threads), String(seed)],
    ],
    { cwd: repoRoot },
  );
}

/** One run of `program` in fresh processes (`apart`: its processes at once, their steps over their span). */
async function runFresh(program: Program, size: Size, seed: number, numpyProgram: string): Promise<RunResult> {
  const epochs = epochsFor(size);
  const ours = (threads: number, runSeed: number) => spawnOurs('--child', size, threads, runSeed);
  const children =
    program.kind === 'numpy'
      ? [
          spawn(
            'python3',
            [
              numpyProgram,
              ...['--n_mid', String(size.hidden), '--batch', String(size.batch), '--epochs', String(epochs)],
              ...['--n_points', String(WINDOW + size.batch * STEPS_PER_EPOCH), '--window', String(WINDOW)],
              ...['--eta', String(LEARNING_RATE), '--seed', String(seed)],
            ],
            { cwd: repoRoot, env: numpyEnv(program.threads) },
          ),
        ]
      : program.kind === 'apart'
        ? Array.from({ length: program.threads }, (_, i) => ours(1, seed + i))
        : [ours(program.threads, seed)];
  const outputs = await Promise.all(children.map(finished));
  const results = outputs.map((child) => {
    if (child.status !== 0) throw new Error(`${label(program)} run failed (${child.status}): ${child.stderr}`);
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as Record<string, number | string>;
  });
  if (program.kind === 'numpy') {
    return { stepsPerSecond: Number(results[0].steps_per_s), threads: program.threads, simd: null };
  }
  const runs = results as unknown as ChildRun[];
  if (program.kind === 'ours') return runs[0];
  const steps = runs.reduce((sum, run) => sum + run.steps, 0);
  const spanMs = Math.max(...runs.map((run) => run.endMs)) - Math.min(...runs.map((run) => run.startMs));
  return { stepsPerSecond: (1000 * steps) / spanMs, threads: program.threads, simd: runs[0].simd };
}

/** The median of the epoch pairs' ratios of runPairedHere, in a fresh process. */
async function runPaired(size: Size, threads: number, seed: number): Promise<number> {
  const output = await finished(spawnOurs('--paired', size, threads, seed));
  if (output.status !== 0) throw new Error(`ours paired ${threads}t run failed (${output.status}): ${output.stderr}`);
  const ratios = JSON.parse(output.stdout.trim().split('\n').pop() ?? '') as number[];
  return summarise(ratios).median;
}

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 ? (args[at + 1] ?? '') : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [hidden, batch, threads, seed] = args.slice(1).map(Number);
    console.log(JSON.stringify(await runOurs({ hidden, batch }, threads, seed)));
    return;
  }
  if (args[0] === '--paired') {
    const [hidden, batch, threads, seed] = args.slice(1).map(Number);
    console.log(JSON.stringify(await runPairedHere({ hidden, batch }, threads, seed)));
    return;
  }
  const reps = Number(option(args, '--reps', '5'));
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps: expected a whole number >= 1, got ${reps}`);
  const sizes = option(args, '--sizes', '256x64,512x256')
    .split(',')
    .map((text) => {
      const [hidden, batch] = text.split('x').map(Number);
      if (!(Number.isInteger(hidden) && hidden > 0 && Number.isInteger(batch) && batch > 0)) {
        throw new Error(`--sizes: expected HIDDENxBATCH[,...], got "${text}"`);
      }
      return { hidden, batch };
    });
  const threadCounts = option(args, '--threads', '1,2').split(',').map(Number);
  if (!threadCounts.every((t) => Number.isInteger(t) && t >= 1)) {
    throw new Error(`--threads: expected whole numbers >= 1, got ${threadCounts.join(',')}`);
  }
  const numpyProgram = option(args, '--numpy', join(repoRoot, 'scripts', 'blog_lstm.py'));
  const json = args.includes('--json');
  const log = json ? () => {} : (line: string) => console.log(line);

  const programs: Program[] = threadCounts.flatMap((threads): Program[] => [
    { kind: 'ours', threads },
    { kind: 'numpy', threads },
    ...(threads > 1 ? [{ kind: 'apart', threads } as const] : []),
  ]);
  const results = [];
  for (const size of sizes) {
    log(
      `Hidden ${size.hidden}, batch ${size.batch}, window ${WINDOW}, ${epochsFor(size)} epochs of ${STEPS_PER_EPOCH} steps, ${reps} reps:`,
    );
    const rates = new Map<string, number[]>(programs.map((p) => [label(p), []]));
    const several = threadCounts.filter((threads) => threads > 1 && threadCounts.includes(1));
    const paired = new Map<number, number[]>(several.map((threads) => [threads, []]));
    let simd: string | null = null;
    for (let r = 0; r < reps; r++) {
      const order = programs.map((_, i) => programs[(i + r) % programs.length]);
      for (const program of order) {
        const result = await runFresh(program, size, r, numpyProgram);
        if (program.kind !== 'numpy' && result.threads !== program.threads) {
          throw new Error(`${label(program)} ran on ${result.threads} threads`);
        }
        simd ??= result.simd;
        rates.get(label(program))?.push(result.stepsPerSecond);
      }
      for (const threads of several) paired.get(threads)?.push(await runPaired(size, threads, r));
      const pairedText = several.map((threads) => `; paired ${threads}t / 1t ${paired.get(threads)?.[r].toFixed(2)}x`);
      log(
        `  rep ${r + 1}/${reps}: ${programs.map((p) => `${label(p)} ${rates.get(label(p))?.[r].toFixed(1)}`).join(', ')} steps/s${pairedText.join('')}`,
      );
    }
    const rateOf = (p: Program) => rates.get(label(p)) ?? [];
    const ratio = (a: Program, b: Program) => summarise(rateOf(a).map((rate, r) => rate / rateOf(b)[r]));
    const stepsPerSecond = Object.fromEntries(programs.map((p) => [label(p), summarise(rateOf(p))]));
    const oursOverNumpy = Object.fromEntries(
      threadCounts.map((threads) => [`${threads}t`, ratio({ kind: 'ours', threads }, { kind: 'numpy', threads })]),
    );
    const oursOverOneThread = Object.fromEntries(
      several.map((threads) => [`${threads}t`, ratio({ kind: 'ours', threads }, { kind: 'ours', threads: 1 })]),
    );
    const oursOverOneThreadPaired = Object.fromEntries(
      several.map((threads) => [`${threads}t`, summarise(paired.get(threads) ?? [])]),
    );
    // What n processes that share nothing get here over one: the ceiling for n threads of one run.
    const machineScaling = Object.fromEntries(
      several.map((threads) => [`${threads}t`, ratio({ kind: 'apart', threads }, { kind: 'ours', threads: 1 })]),
    );
    for (const p of programs) {
      const s = stepsPerSecond[label(p)];
      log(
        `  ${label(p).padEnd(10)} median ${s.median.toFixed(1).padStart(7)} steps/s   spread ${s.min.toFixed(1)}-${s.max.toFixed(1)}`,
      );
    }
    const text = (s: Summary) => `${s.median.toFixed(2)}x (spread ${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
    for (const [key, s] of Object.entries(oursOverNumpy)) log(`  ours / numpy, ${key}: ${text(s)}`);
    for (const [key, s] of Object.entries(oursOverOneThread)) log(`  ours ${key} / ours 1t: ${text(s)}`);
    for (const [key, s] of Object.entries(oursOverOneThreadPaired)) {
      log(`  ours ${key} / ours 1t in one process, epochs alternating (medians of the reps' pairs): ${text(s)}`);
    }
    for (const [key, s] of Object.entries(machineScaling)) {
      log(`  ${key.replace('t', '')} one-thread runs at once / one alone (this machine's ceiling): ${text(s)}`);
    }
    log(`  our kernels: ${simd}`);
    results.push({
      ...size,
      window: WINDOW,
      epochs: epochsFor(size),
      simd,
      stepsPerSecond,
      oursOverNumpy,
      oursOverOneThread,
      oursOverOneThreadPaired,
      machineScaling,
    });
  }
  if (json) console.log(JSON.stringify({ reps, sizes: results }));
}

await main();
