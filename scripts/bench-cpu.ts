// The CPU backend against the blog's numpy program, measured side by side in one run:
//   npm run bench:cpu -- [--reps 7] [--json]
//
// 1. Seed defaults (hidden 30, batch 8, window 10, 101 epochs, the per-epoch error over all 40
//    samples included): each repetition runs the blog's numpy program (our port, `scripts/blog_lstm.py`),
//    our fast kernels and our reference kernels, each in a fresh process (so our JIT and WebAssembly
//    tier-up count, as they do for `npm run cli -- train`), in a rotating order so that load on a
//    shared machine falls on all three alike. Our fast kernels run as the CLI runs them (relaxed SIMD
//    where Node has it, the thread count measured: one at this size). Steps/s is each program's own
//    timing of its training loop (minibatch updates / seconds). Reported: median, spread (min-max),
//    and the ratio to the blog's program (median of the per-repetition ratios).
// 2. GFLOP/s on one core at hidden 256, batch 64, window 10 (one input, one output; more threads and
//    larger sizes: scripts/bench-cpu-sizes.ts): training steps only
//    (trainEpoch with evaluate: false), after a warm-up, median of repetitions (src/bench/bench.ts's
//    method). FLOPs per step from trainStepFlops (src/model/flops.ts): per LSTM layer
//    3 · 2·B·T·4H·(I + H) (forward x W + y V, backward dW/dV and dx/dy), dense 3 · 2·B·H·O, update 2·P.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuKernels } from '../src/backends/cpu/cpuBackend.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createCpuBackend } from '../src/backends/cpu/createCpuBackend.js';
import { allowRelaxedSimd, nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
import { type BenchResult, benchCase } from '../src/bench/bench.js';
import { trainStepFlops } from '../src/model/flops.js';
import { startRun } from '../src/train/run.js';
import { trainToEnd } from '../src/train/trainer.js';
import { type Summary, summarise } from './summary.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const BLOG_PROGRAM = join(repoRoot, 'scripts', 'blog_lstm.py');
const SEED_DEFAULTS = { points: 50, noise: 0.1, window: 10, hiddenSizes: [30] };
const SEED_TRAINING = { epochs: 101, batchSize: 8, learningRate: 0.01, reportEvery: 10 }; // the CLI default

type Program = 'seed' | CpuKernels;

interface RunResult {
  stepsPerSecond: number;
  finalLoss: number;
}

/**
 * One training run at the blog's defaults in this process (the child side of `runFresh`), as the CLI
 * runs it: relaxed SIMD where Node has it, the thread count measured ('auto'; one at this size).
 */
async function trainOnce(kernels: CpuKernels, seed: number): Promise<RunResult> {
  allowRelaxedSimd();
  const { points, noise, window, hiddenSizes } = SEED_DEFAULTS;
  const run = startRun({
    seed,
    source: { kind: 'generated', spec: { kind: 'sine', points, noise } },
    window,
    hiddenSizes,
  });
  const backend = await createCpuBackend(run.layout, { kernels, threads: 'auto', host: nodeThreadHost });
  backend.setParams(run.params);
  const result = await trainToEnd(backend, run.prepared.train, run.rng, SEED_TRAINING);
  backend.dispose();
  return { stepsPerSecond: result.steps / result.seconds, finalLoss: result.finalLoss };
}

function runFresh(program: Program, seed: number): RunResult {
  const [command, args] =
    program === 'seed'
      ? ['python3', [BLOG_PROGRAM, '--seed', String(seed)]]
      : [
          process.execPath,
          [
            '--import',
            'tsx',
            '--import',
            './scripts/register-raw.mjs',
            fileURLToPath(import.meta.url),
            '--child',
            program,
            String(seed),
          ],
        ];
  const child = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', env: numpyEnv() });
  if (child.status !== 0) throw new Error(`${program} run failed (${child.status}): ${child.stderr}`);
  const out = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as Record<string, number>;
  return program === 'seed'
    ? { stepsPerSecond: out.steps_per_s, finalLoss: out.final_error }
    : { stepsPerSecond: out.stepsPerSecond, finalLoss: out.finalLoss };
}

/** This process's environment less the OpenBLAS tuning overrides that make numpy slower on these machines. */
function numpyEnv(): NodeJS.ProcessEnv {
  const { OPENBLAS_CORETYPE: _coreType, OPENBLAS_L2_SIZE: _l2Size, ...env } = process.env;
  return env;
}

async function seedDefaults(reps: number, log: (line: string) => void) {
  const programs: Program[] = ['seed', 'fast', 'reference'];
  const rates: Record<Program, number[]> = { seed: [], fast: [], reference: [] };
  const losses: Record<Program, number[]> = { seed: [], fast: [], reference: [] };
  for (let r = 0; r < reps; r++) {
    // Rotate the order each repetition; every program trains with the same seed within one.
    const order = programs.map((_, i) => programs[(i + r) % programs.length]);
    for (const program of order) {
      const result = runFresh(program, r);
      rates[program].push(result.stepsPerSecond);
      losses[program].push(result.finalLoss);
    }
    log(
      `  rep ${r + 1}/${reps}: ${programs.map((p) => `${p} ${rates[p][r].toFixed(0)}`).join(', ')} steps/s ` +
        `(order ${order.join(' > ')})`,
    );
  }
  const ratio = (program: Program) => summarise(rates[program].map((rate, r) => rate / rates.seed[r]));
  return {
    reps,
    stepsPerSecond: { seed: summarise(rates.seed), fast: summarise(rates.fast), reference: summarise(rates.reference) },
    ratioToSeed: { fast: ratio('fast'), reference: ratio('reference') },
    finalLoss: { seed: summarise(losses.seed), fast: summarise(losses.fast), reference: summarise(losses.reference) },
  };
}

async function gflops(kernels: CpuKernels, steps: number, repetitions: number): Promise<BenchResult> {
  const result = await benchCase(
    async (layout) => new CpuBackend(layout, { kernels }),
    { backend: 'cpu', hidden: 256, batch: 64, window: 10 },
    { steps, repetitions, budgetSeconds: 60 },
  );
  if (result.skipped !== null) throw new Error(`hidden 256 batch 64 skipped: ${result.skipped}`);
  return result;
}

async function main(): Promise<void> {
  allowRelaxedSimd();
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    console.log(JSON.stringify(await trainOnce(args[1] as CpuKernels, Number(args[2]))));
    return;
  }
  const repsAt = args.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 7;
  if (!Number.isInteger(reps) || reps < 1)
    throw new Error(`--reps: expected a whole number >= 1, got ${args[repsAt + 1]}`);
  const json = args.includes('--json');
  const log = json ? () => {} : (line: string) => console.log(line);

  log(`Seed defaults (hidden 30, batch 8, window 10, 101 epochs, per-epoch error included), ${reps} reps:`);
  const seed = await seedDefaults(reps, log);
  const row = (name: string, s: Summary) =>
    `  ${name.padEnd(16)} median ${s.median.toFixed(0).padStart(6)} steps/s   spread ${s.min.toFixed(0)}-${s.max.toFixed(0)}`;
  log(row('seed (numpy)', seed.stepsPerSecond.seed));
  log(row('cpu fast', seed.stepsPerSecond.fast));
  log(row('cpu reference', seed.stepsPerSecond.reference));
  const ratioText = (s: Summary) => `${s.median.toFixed(2)}x (spread ${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
  log(`  fast / seed: ${ratioText(seed.ratioToSeed.fast)}; reference / seed: ${ratioText(seed.ratioToSeed.reference)}`);
  log(
    `  final error (median): seed ${seed.finalLoss.seed.median.toFixed(3)}, fast ${seed.finalLoss.fast.median.toFixed(3)}, ` +
      `reference ${seed.finalLoss.reference.median.toFixed(3)}`,
  );

  const config = { inputSize: 1, hiddenSizes: [256], outputSize: 1, window: 10 };
  log(`\nHidden 256, batch 64, window 10: ${(trainStepFlops(config, 64) / 1e9).toFixed(3)} GFLOP per training step`);
  const fast = await gflops('fast', 20, 7);
  const reference = await gflops('reference', 2, 3);
  for (const r of [
    ['cpu fast', fast],
    ['cpu reference', reference],
  ] as const) {
    log(
      `  ${r[0].padEnd(16)} ${r[1].gflops.toFixed(2).padStart(6)} GFLOP/s   ${r[1].msPerStep.toFixed(2)} ms/step ` +
        `(spread ${r[1].msPerStepMin.toFixed(2)}-${r[1].msPerStepMax.toFixed(2)}, ${r[1].repetitions} reps of ${r[1].steps} steps)`,
    );
  }
  if (json) console.log(JSON.stringify({ seedDefaults: seed, hidden256batch64: { fast, reference } }));
}

await main();
