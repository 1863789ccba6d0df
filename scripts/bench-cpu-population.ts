// The CPU backend's populations: member-steps per second of K members on one thread and on n member
// threads, and of one model alone, side by side in one process:
//   npm run bench:cpu-population -- [--members 64] [--threads 2] [--pairs 9] [--hidden 30] [--batch 8] [--json]
//
// Every side trains the blog's noisy sine (1,000 points, window 10: 990 windows) with SGD, each
// member from weights and minibatch orders of its own. A round times one epoch of each side (the
// minibatch steps, then every member's error over all windows, as the trainer runs it; until every
// member thread has answered), in an order rotated each round: on this project's shared 2-vCPU
// machines the speed of the cores swings for seconds at a time, so sides timed far apart can meet
// different machines, and a round's sides meet the same one. "Alone" is one model's K epochs, the
// same member-steps as a population's epoch. Reported: each side's median member-steps/s and the
// medians of the per-round ratios; beside them, how many cores the process kept busy over each
// side's epochs (its CPU time, every thread's, over the wall time): on a machine others load, a
// side that got less than its threads is held back by them, not by its own work. (Linux with
// sched_autogroup puts each session's processes in one group that shares the CPU with the other
// sessions as one, so there a second thread adds no CPU while other sessions keep both cores busy.)

import { parseArgs } from 'node:util';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createCpuPopulation } from '../src/backends/cpu/createCpuBackend.js';
import { allowRelaxedSimd, nodeThreadHost } from '../src/backends/cpu/nodeThreads.js';
import { sharedRanges } from '../src/backends/population.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { startRun } from '../src/train/run.js';
import { median } from './summary.js';

/** Small enough that nothing diverges; speed does not depend on it. */
const LEARNING_RATE = 1e-3;

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    pairs: { type: 'string', default: '9' },
    hidden: { type: 'string', default: '30' },
    batch: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});
const members = Number(values.members);
const threads = Number(values.threads);
const rounds = Number(values.pairs);
const batch = Number(values.batch);

allowRelaxedSimd();
const run = startRun({
  seed: 1,
  source: { kind: 'generated', spec: { kind: 'sine', points: 1000, noise: 0.1 } },
  window: 10,
  hiddenSizes: [Number(values.hidden)],
});
const data = run.prepared.train;
const { layout } = run;
const steps = Math.floor(data.count / batch);

/** A side of the comparison: one epoch's worth of member-steps, timed. */
interface Side {
  name: string;
  epoch(): Promise<void>;
  ms: number[];
  /** The process's CPU time (every thread) over each epoch, ms. */
  cpuMs: number[];
  dispose(): Promise<void>;
}

async function populationSide(count: number): Promise<Side> {
  const population = await createCpuPopulation(layout, members, { threads: count, host: nodeThreadHost });
  if (population.threads !== count) throw new Error(`${count} threads asked, ${population.threads} started`);
  population.setMemberOptimizers(new Array(members).fill({ optimizer: DEFAULT_OPTIMIZER, loss: 'sse' }));
  population.setMemberTraining(data, batch, sharedRanges(members, data.count));
  for (let m = 0; m < members; m++) population.setMemberParams(m, initParams(layout, new Rng(100 + m)));
  const rngs = Array.from({ length: members }, (_, m) => new Rng(1000 + m));
  const orders = rngs.map(() => new Uint32Array(data.count));
  const learningRates = new Array(members).fill(LEARNING_RATE);
  return {
    name: `${members} members, ${count} thread${count > 1 ? 's' : ''}`,
    ms: [],
    cpuMs: [],
    epoch: async () => {
      for (const [m, rng] of rngs.entries()) rng.permutation(orders[m]);
      await population.trainMembers({ orders, learningRates });
      await population.readMemberLosses();
    },
    dispose: () => population.dispose(),
  };
}

async function aloneSide(): Promise<Side> {
  const backend = new CpuBackend(layout);
  backend.setTrainingData(data, batch);
  backend.setParams(initParams(layout, new Rng(100)));
  const rng = new Rng(1000);
  const order = new Uint32Array(data.count);
  return {
    name: 'one model alone',
    ms: [],
    cpuMs: [],
    epoch: async () => {
      for (let m = 0; m < members; m++) {
        rng.permutation(order);
        await backend.trainEpoch(order, LEARNING_RATE);
      }
      await backend.readLosses();
    },
    dispose: () => backend.dispose(),
  };
}

const sides = [await populationSide(1), await populationSide(threads), await aloneSide()];
for (const side of sides) await side.epoch();
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < sides.length; i++) {
    const side = sides[(i + round) % sides.length];
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await side.epoch();
    side.ms.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    side.cpuMs.push((cpu.user + cpu.system) / 1000);
  }
}
for (const side of sides) await side.dispose();

const memberSteps = members * steps;
const perSecond = (ms: number) => (1000 * memberSteps) / ms;
const ratios = (over: Side, under: Side) => median(over.ms.map((ms, r) => under.ms[r] / ms));
const [one, several, alone] = sides;
const coresBusy = (side: Side) => side.cpuMs.reduce((a, b) => a + b, 0) / side.ms.reduce((a, b) => a + b, 0);
const result = {
  shape: { hidden: Number(values.hidden), window: 10, batch, windows: data.count, members, stepsPerEpoch: steps },
  memberStepsPerSecond: Object.fromEntries(sides.map((side) => [side.name, Math.round(perSecond(median(side.ms)))])),
  [`${threads} threads / 1 thread`]: ratios(several, one),
  '1 thread / alone': ratios(one, alone),
  coresBusy: Object.fromEntries(sides.map((side) => [side.name, coresBusy(side)])),
  rounds,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(
    `hidden ${result.shape.hidden}, window 10, batch ${batch}, ${data.count} windows, ${steps} steps an epoch`,
  );
  for (const side of sides) {
    const spread = side.ms.map(perSecond);
    console.log(
      `${side.name.padEnd(24)} ${Math.round(perSecond(median(side.ms)))
        .toLocaleString('en')
        .padStart(9)} member-steps/s` +
        ` (${Math.round(Math.min(...spread)).toLocaleString('en')} to ${Math.round(Math.max(...spread)).toLocaleString('en')}),` +
        ` ${coresBusy(side).toFixed(2)} cores busy`,
    );
  }
  console.log(`${threads} threads / 1 thread, median of the rounds' ratios: ${ratios(several, one).toFixed(2)}x`);
  console.log(`1 thread / one model alone, median of the rounds' ratios: ${ratios(one, alone).toFixed(2)}x`);
}
