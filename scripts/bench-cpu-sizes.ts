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

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../src/backends/cpu/createCpuBackend.js';
import { allowRelaxedSimd, nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
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

/** One run of ours in this process (the child side of runFresh). */
async function runOurs(size: Size, threads: number, seed: number): Promise<RunResult> {
  allowRelaxedSimd();
  const run = startRun({
    seed,
    source: { kind: 'generated', spec: { kind: 'sine', points: WINDOW + size.batch * STEPS_PER_EPOCH, noise: 0.1 } },
    window: WINDOW,
    hiddenSizes: [size.hidden],
  });
  const backend = await createCpuBackend(run.layout, { threads, host: nodeThreadHost });
  if (backend.threadsNote !== null) throw new Error(backend.threadsNote);
  backend.setParams(run.params);
  const epochs = epochsFor(size);
  const options = { epochs, batchSize: size.batch, learningRate: LEARNING_RATE, reportEvery: epochs };
  const result = await trainToEnd(backend, run.prepared.train, run.rng, options);
  const out = { stepsPerSecond: result.steps / result.seconds, threads: backend.threads, simd: backend.simd };
  backend.dispose();
  return out;
}

type Program = { kind: 'ours' | 'numpy'; threads: number };

function label(p: Program): string {
  return `${p.kind} ${p.threads}t`;
}

/** This process's environment less the OpenBLAS tuning overrides a user's numpy does not have. */
function numpyEnv(threads: number): NodeJS.ProcessEnv {
  const { OPENBLAS_CORETYPE: _coreType, OPENBLAS_L2_SIZE: _l2Size, ...env } = process.env;
  return { ...env, OPENBLAS_NUM_THREADS: String(threads) };
}

function runFresh(program: Program, size: Size, seed: number, numpyProgram: string): RunResult {
  const epochs = epochsFor(size);
  const child =
    program.kind === 'numpy'
      ? spawnSync(
          'python3',
          [
            numpyProgram,
            ...['--n_mid', String(size.hidden), '--batch', String(size.batch), '--epochs', String(epochs)],
            ...['--n_points', String(WINDOW + size.batch * STEPS_PER_EPOCH), '--window', String(WINDOW)],
            ...['--eta', String(LEARNING_RATE), '--seed', String(seed)],
          ],
          { cwd: repoRoot, encoding: 'utf8', env: numpyEnv(program.threads) },
        )
      : spawnSync(
          process.execPath,
          [
            ...['--import', 'tsx', '--import', './scripts/register-raw.mjs', fileURLToPath(import.meta.url), '--child'],
            ...[String(size.hidden), String(size.batch), String(program.threads), String(seed)],
          ],
          { cwd: repoRoot, encoding: 'utf8' },
        );
  if (child.status !== 0) throw new Error(`${label(program)} run failed (${child.status}): ${child.stderr}`);
  const out = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as Record<string, number | string>;
  return program.kind === 'numpy'
    ? { stepsPerSecond: Number(out.steps_per_s), threads: program.threads, simd: null }
    : (out as unknown as RunResult);
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

  const programs: Program[] = threadCounts.flatMap((threads) => [
    { kind: 'ours', threads },
    { kind: 'numpy', threads },
  ]);
  const results = [];
  for (const size of sizes) {
    log(
      `Hidden ${size.hidden}, batch ${size.batch}, window ${WINDOW}, ${epochsFor(size)} epochs of ${STEPS_PER_EPOCH} steps, ${reps} reps:`,
    );
    const rates = new Map<string, number[]>(programs.map((p) => [label(p), []]));
    let simd: string | null = null;
    for (let r = 0; r < reps; r++) {
      const order = programs.map((_, i) => programs[(i + r) % programs.length]);
      for (const program of order) {
        const result = runFresh(program, size, r, numpyProgram);
        if (program.kind === 'ours' && result.threads !== program.threads) {
          throw new Error(`${label(program)} ran on ${result.threads} threads`);
        }
        simd ??= result.simd;
        rates.get(label(program))?.push(result.stepsPerSecond);
      }
      log(
        `  rep ${r + 1}/${reps}: ${programs.map((p) => `${label(p)} ${rates.get(label(p))?.[r].toFixed(1)}`).join(', ')} steps/s`,
      );
    }
    const rateOf = (p: Program) => rates.get(label(p)) ?? [];
    const ratio = (a: Program, b: Program) => summarise(rateOf(a).map((rate, r) => rate / rateOf(b)[r]));
    const stepsPerSecond = Object.fromEntries(programs.map((p) => [label(p), summarise(rateOf(p))]));
    const oursOverNumpy = Object.fromEntries(
      threadCounts.map((threads) => [`${threads}t`, ratio({ kind: 'ours', threads }, { kind: 'numpy', threads })]),
    );
    const oursOverOneThread = Object.fromEntries(
      threadCounts
        .filter((threads) => threads > 1 && threadCounts.includes(1))
        .map((threads) => [`${threads}t`, ratio({ kind: 'ours', threads }, { kind: 'ours', threads: 1 })]),
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
    log(`  our kernels: ${simd}`);
    results.push({
      ...size,
      window: WINDOW,
      epochs: epochsFor(size),
      simd,
      stepsPerSecond,
      oursOverNumpy,
      oursOverOneThread,
    });
  }
  if (json) console.log(JSON.stringify({ reps, sizes: results }));
}

await main();
