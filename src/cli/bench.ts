// `bench`: the GPU-versus-CPU sweep (see src/bench/bench.ts for the method). A readable table by
// default; with --json one object {method, adapter, options, results: [...]} on stdout. Where the GPU
// timed its kernels, the table's last column splits a step: forward/backward/weight gradients/update, ms.

import type { BackendName } from '../backends/backend.js';
import { BENCH_METHOD, type BenchResult, crossovers, DEFAULT_SWEEP, runSweep, speedups } from '../bench/bench.js';
import { InputError } from '../model/errors.js';
import { LIMITS } from '../model/validate.js';
import { backendOpeners } from './backends.js';
import { intListOption, intOption, numberOption, parseOptions, stringOption } from './options.js';

export async function benchCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const values = parseOptions('bench', argv, {
    backend: { type: 'string' },
    hidden: { type: 'string' },
    batch: { type: 'string' },
    window: { type: 'string' },
    steps: { type: 'string' },
    repetitions: { type: 'string' },
    budget: { type: 'string' },
    json: { type: 'boolean' },
  });
  const backends = parseBackendList(stringOption(values, 'backend'));
  const spec = {
    backends,
    hidden: intListOption(values, 'hidden', [...DEFAULT_SWEEP.hidden], 1, LIMITS.hiddenSize, 64),
    batch: intListOption(values, 'batch', [...DEFAULT_SWEEP.batch], 1, 65536, 64),
    window: intOption(values, 'window', DEFAULT_SWEEP.window, 1, LIMITS.window),
  };
  const options = {
    steps: intOption(values, 'steps', 5, 1, 100_000),
    repetitions: intOption(values, 'repetitions', 5, 1, 1000),
    budgetSeconds: numberOption(values, 'budget', 10, { min: 0, max: 86_400 }),
  };
  const json = values.json === true;
  const { openers, adapter, notes, dispose } = await backendOpeners(backends);
  try {
    if (!json) for (const note of notes) log(note);
    // The kernel column only where a GPU case may fill it.
    const kernels = backends.includes('webgpu');
    if (!json) log(header(kernels));
    const results = await runSweep(spec, openers, options, (result) => {
      if (!json) log(row(result, kernels));
    });
    if (json) {
      process.stdout.write(`${JSON.stringify({ method: BENCH_METHOD, adapter, options, results })}\n`);
      return;
    }
    const ups = speedups(results);
    if (ups.length > 0) {
      log('\nGPU/CPU speed-up (steps per second):');
      for (const s of ups) log(`  hidden ${s.hidden}, batch ${s.batch}: ${s.speedup.toFixed(2)}x`);
      for (const c of crossovers(results)) {
        log(
          `  batch ${c.batch}: ${c.hidden === null ? 'the CPU is faster at every size measured' : `the GPU is faster from hidden ${c.hidden} on`}`,
        );
      }
    }
  } finally {
    dispose();
  }
}

function parseBackendList(text: string | undefined): BackendName[] {
  if (text === undefined) return ['cpu', 'webgpu'];
  const names = text.split(',').map((s) => s.trim());
  for (const name of names) {
    if (name !== 'cpu' && name !== 'webgpu') {
      throw new InputError('--backend', `expected a comma list of cpu and webgpu, got "${text}"`);
    }
  }
  return [...new Set(names)] as BackendName[];
}

function header(kernels: boolean): string {
  const base = `${'backend'.padEnd(8)}${'hidden'.padStart(7)}${'batch'.padStart(7)}${'steps/s'.padStart(11)}${'ms/step'.padStart(11)}${'spread ms'.padStart(19)}${'GFLOP/s'.padStart(10)}${'disp/step'.padStart(11)}${'setup ms'.padStart(10)}`;
  return kernels ? `${base}  kernel ms fwd/bwd/wgrad/upd` : base;
}

function row(r: BenchResult, kernels: boolean): string {
  const lead = `${r.backend.padEnd(8)}${String(r.hidden).padStart(7)}${String(r.batch).padStart(7)}`;
  if (r.skipped !== null) return `${lead}  skipped: ${r.skipped}`;
  const spread = `${r.msPerStepMin.toPrecision(3)}–${r.msPerStepMax.toPrecision(3)}`;
  const base = `${lead}${r.stepsPerSecond.toPrecision(4).padStart(11)}${r.msPerStep.toPrecision(4).padStart(11)}${spread.padStart(19)}${r.gflops.toPrecision(3).padStart(10)}${(r.dispatchesPerStep === null ? '-' : r.dispatchesPerStep.toFixed(1)).padStart(11)}${r.setupMs.toFixed(0).padStart(10)}`;
  if (!kernels) return base;
  const k = r.kernelMs;
  const split =
    k === undefined
      ? '-'
      : [k.forward, k.backward, k.weightGradients, k.update].map((ms) => ms.toPrecision(3)).join('/');
  return `${base}  ${split}`;
}
