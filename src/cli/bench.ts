// `bench`: the GPU-versus-CPU sweep (see src/bench/bench.ts for the method). A readable table by
// default; with --json one object {method, adapter, options, results: [...]} on stdout. Where the GPU
// timed its kernels, the table's last column splits a step: forward/backward/weight gradients/update, ms.

import { BENCH_METHOD, type BenchResult, crossovers, runSweep, speedups } from '../bench/bench.js';
import { BENCH_SETTINGS as B } from '../settings/bench.js';
import { backendOpeners } from './backends.js';
import { CLI_SETTINGS, commandOptions } from './commands.js';
import { option, parseOptions } from './options.js';

export async function benchCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const values = parseOptions('bench', argv, commandOptions('bench'));
  const backends = option(values, B.backend);
  const spec = {
    backends,
    hidden: option(values, B.hidden),
    batch: option(values, B.batch),
    window: option(values, B.window),
    ...membersOf(option(values, B.members)),
  };
  const options = {
    steps: option(values, B.steps),
    repetitions: option(values, B.repetitions),
    budgetSeconds: option(values, B.budget),
  };
  const json = option(values, CLI_SETTINGS.json);
  const { openers, adapter, notes, dispose } = await backendOpeners(backends, option(values, B.threads));
  try {
    if (!json) for (const note of notes) log(note);
    // The kernel column only where a GPU case may fill it.
    const kernels = backends.includes('webgpu');
    const population = spec.members !== undefined;
    if (!json) log(header(kernels, population));
    const results = await runSweep(spec, openers, options, (result) => {
      if (!json) log(row(result, kernels, population));
    });
    if (json) {
      process.stdout.write(`${JSON.stringify({ method: BENCH_METHOD, adapter, options, results })}\n`);
      return;
    }
    const ups = speedups(results);
    if (ups.length > 0) {
      log('\nGPU/CPU speed-up (steps per second):');
      for (const s of ups) {
        const members = s.members === undefined ? '' : `, ${s.members} members`;
        log(`  hidden ${s.hidden}, batch ${s.batch}${members}: ${s.speedup.toFixed(2)}x`);
      }
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

function membersOf(members: number[] | null): { members?: number[] } {
  return members === null ? {} : { members };
}

function header(kernels: boolean, population: boolean): string {
  const members = population ? `${'members'.padStart(8)}${'member-steps/s'.padStart(16)}` : '';
  const base = `${'backend'.padEnd(8)}${'hidden'.padStart(7)}${'batch'.padStart(7)}${members}${'steps/s'.padStart(11)}${'ms/step'.padStart(11)}${'spread ms'.padStart(19)}${'GFLOP/s'.padStart(10)}${'disp/step'.padStart(11)}  ${'variant'.padEnd(20)}${'setup ms'.padStart(10)}${'threads'.padStart(9)}`;
  return kernels ? `${base}  kernel ms fwd/bwd/wgrad/upd` : base;
}

function row(r: BenchResult, kernels: boolean, population: boolean): string {
  const head = `${r.backend.padEnd(8)}${String(r.hidden).padStart(7)}${String(r.batch).padStart(7)}`;
  if (r.skipped !== null) return `${head}${population ? String(r.members).padStart(8) : ''}  skipped: ${r.skipped}`;
  const rate = r.memberStepsPerSecond === undefined ? '-' : r.memberStepsPerSecond.toPrecision(4);
  const lead = population ? `${head}${String(r.members).padStart(8)}${rate.padStart(16)}` : head;
  const spread = `${r.msPerStepMin.toPrecision(3)}–${r.msPerStepMax.toPrecision(3)}`;
  const base = `${lead}${r.stepsPerSecond.toPrecision(4).padStart(11)}${r.msPerStep.toPrecision(4).padStart(11)}${spread.padStart(19)}${r.gflops.toPrecision(3).padStart(10)}${(r.dispatchesPerStep === null ? '-' : r.dispatchesPerStep.toFixed(1)).padStart(11)}  ${(r.variant ?? '-').padEnd(20)}${r.setupMs.toFixed(0).padStart(10)}${String(r.threads ?? '-').padStart(9)}`;
  if (!kernels) return base;
  const k = r.kernelMs;
  const split =
    k === undefined
      ? '-'
      : [k.forward, k.backward, k.weightGradients, k.update].map((ms) => ms.toPrecision(3)).join('/');
  return `${base}  ${split}`;
}
