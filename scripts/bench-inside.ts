// What the Inside view costs a run: the app's training session (src/app/session.ts, as the CPU worker
// runs it) with the view closed and open, side by side, alternating so that a loaded machine's drift
// falls on both alike. Prints wall-clock epochs per second (the median of the repetitions) each way, the
// slowdown, and the probe's milliseconds per report and how many reports probed (the budget in
// src/app/inside.ts skips a report's probe that would take more than its share).
//
//   npm run bench:inside [-- --reps 7 --source sine|co2]

import { INSIDE_SHARE, MAX_INSIDE_WINDOWS } from '../src/app/inside.js';
import { RunControl, runSession, type SessionOptions } from '../src/app/session.js';
import { createCpuBackend } from '../src/backends/cpu/createCpuBackend.js';
import { type RunSettings, startRun } from '../src/train/run.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const reps = Number(option('reps', '7'));
const source = option('source', 'sine');

// The blog's task and settings (the app's defaults), or CO2 with its own defaults.
const settings: RunSettings =
  source === 'co2'
    ? {
        seed: 1,
        source: { kind: 'bundled', name: 'co2' },
        window: 24,
        hiddenSizes: [30],
        transform: 'differences',
        trainFraction: 0.8,
        validationFraction: 0.1,
        normalize: 'z-score',
      }
    : {
        seed: 1,
        source: { kind: 'generated', spec: { kind: 'sine', points: 50, noise: 0.1 } },
        window: 10,
        hiddenSizes: [30],
      };
const training: SessionOptions = {
  epochs: source === 'co2' ? 30 : 101,
  batchSize: 8,
  learningRate: 0.01,
  reportEvery: 10,
};

interface Timing {
  epochsPerSecond: number;
  /** Ms of the reports that probed the held-out sample too, and of those that probed the window alone. */
  probes: number[];
  windowOnly: number[];
  reports: number;
}

async function once(open: boolean): Promise<Timing> {
  const run = startRun(settings);
  const backend = await createCpuBackend(run.layout, { threads: 1 });
  const probes: number[] = [];
  const windowOnly: number[] = [];
  let reports = 0;
  let summary: unknown = null;
  const began = performance.now();
  try {
    await runSession(
      backend,
      run,
      { ...training, inside: () => (open ? { row: null } : null) },
      new RunControl(),
      (snapshot) => {
        reports++;
        const inside = snapshot.inside;
        if (inside === null) return;
        (inside.saturation === summary ? windowOnly : probes).push(inside.ms);
        summary = inside.saturation;
      },
    );
  } finally {
    backend.dispose();
  }
  return { epochsPerSecond: training.epochs / ((performance.now() - began) / 1000), probes, windowOnly, reports };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
};

const closed: Timing[] = [];
const opened: Timing[] = [];
await once(false); // warm-up: compile the kernels and the probe
await once(true);
for (let r = 0; r < reps; r++) {
  closed.push(await once(false));
  opened.push(await once(true));
}
const speedClosed = median(closed.map((t) => t.epochsPerSecond));
const speedOpen = median(opened.map((t) => t.epochsPerSecond));
const probeMs = opened.flatMap((t) => t.probes);
const windowMs = opened.flatMap((t) => t.windowOnly);
const reports = opened.reduce((n, t) => n + t.reports, 0);
console.log(
  `${source}: ${training.epochs} epochs, a report every ${training.reportEvery}, ${reps} runs each way (median)`,
);
console.log(`  view closed: ${speedClosed.toFixed(1)} epochs/s`);
console.log(
  `  view open:   ${speedOpen.toFixed(1)} epochs/s (${((1 - speedOpen / speedClosed) * 100).toFixed(1)}% slower)`,
);
console.log(
  `  probe with ${MAX_INSIDE_WINDOWS} held-out windows: median ${median(probeMs).toFixed(1)} ms, at ${probeMs.length} of ${reports} reports; ` +
    `the window alone: ${windowMs.length === 0 ? 'never' : `median ${median(windowMs).toFixed(1)} ms, at ${windowMs.length}`} (budget ${INSIDE_SHARE * 100}% of the wall time)`,
);
