// The app's population runs (the Members field): a session of K members whose every member is the
// single run of its seed (the app's own session, snapshot for snapshot), whose snapshot's lines are
// the members' medians with their 10–90% band, and whose chart columns put the band where the lines
// are; one member can be shown alone.

import { describe, expect, it } from 'vitest';
import type { ChartSpec } from '../src/app/charts.js';
import { emptyTrace } from '../src/app/columns.js';
import { bandOf, lossesAcross, quantileOfSorted, validationAcross } from '../src/app/ensemble.js';
import {
  addToEnsemble,
  type EnsembleTrace,
  lanesShowing,
  withBandColumns,
  withBandSeries,
} from '../src/app/ensembleBand.js';
import { membersMemoryProblem, runPopulationSession } from '../src/app/populationSession.js';
import { RunControl, runSession, type Snapshot } from '../src/app/session.js';
import { CpuBackend } from '../src/backends/cpu/cpuBackend.js';
import { createCpuPopulation } from '../src/backends/cpu/createCpuBackend.js';
import { InputError } from '../src/model/errors.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { type RunSettings, startRun } from '../src/train/run.js';

const sine: RunSettings = {
  seed: 3,
  source: { kind: 'generated', spec: { kind: 'sine', points: 30, noise: 0.1 } },
  window: 5,
  hiddenSizes: [6],
};
const options = {
  epochs: 12,
  batchSize: 4,
  learningRate: 0.01,
  reportEvery: 5,
  optimizer: DEFAULT_OPTIMIZER,
  loss: 'sse' as const,
  lrDecay: 1,
  keepBest: false,
  patience: null,
  horizon: 6,
};

async function single(seed: number): Promise<Snapshot[]> {
  const settings = { ...sine, seed, dataSeed: sine.seed };
  const run = startRun(settings);
  const snapshots: Snapshot[] = [];
  await runSession(new CpuBackend(run.layout), run, options, new RunControl(), (s) => snapshots.push(s));
  return snapshots;
}

describe('ensemble of a population run', () => {
  it('quantiles and medians as numpy computes them', () => {
    expect(quantileOfSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileOfSorted([0, 10], 0.1)).toBeCloseTo(1, 12);
    const { median, low, high } = bandOf([
      [1, 5],
      [3, 1],
      [2, 9],
    ]);
    expect([...median]).toEqual([2, 5]);
    expect(low[0]).toBeCloseTo(1.2, 6);
    expect(high[1]).toBeCloseTo(8.2, 6);
    // A member that stopped after epoch 1 counts at epoch 1 only.
    expect(lossesAcross([[4, 2], [6], [5, 3]], 1)).toEqual({ median: [5, 2.5], min: [4, 2], max: [6, 3] });
    expect(validationAcross([[{ epoch: 5, loss: 1 }], [{ epoch: 5, loss: 3 }]]).median).toEqual([
      { epoch: 5, loss: 2 },
    ]);
  });

  it('trains every member as the single run of its seed, and reports their median and band', async () => {
    const K = 3;
    const run = startRun(sine);
    const population = await createCpuPopulation(run.layout, K);
    const snapshots: Snapshot[] = [];
    const end = await runPopulationSession(population, run, sine, { ...options, members: K }, new RunControl(), (s) =>
      snapshots.push(s),
    );
    expect(end).toEqual({ outcome: 'finished', message: null });
    expect(snapshots.map((s) => [s.epoch, s.newLosses.length, s.done])).toEqual([
      [5, 5, false],
      [10, 5, false],
      [12, 2, true],
    ]);
    const alone = await Promise.all([3, 4, 5].map(single));
    const last = snapshots[2];
    const each = last.ensemble?.each;
    expect(last.ensemble?.seeds).toEqual([3, 4, 5]);
    for (let m = 0; m < K; m++) {
      expect(each?.values[m].predictions).toEqual(alone[m][2].predictions);
      expect(each?.values[m].future).toEqual(alone[m][2].future);
      expect(snapshots.flatMap((s) => s.ensemble?.each?.newLosses[m] ?? [])).toEqual(
        alone[m].flatMap((s) => s.newLosses),
      );
    }
    const at = 7;
    const values = alone.map((a) => a[2].predictions[at]).sort((a, b) => a - b);
    expect(last.predictions[at]).toBe(values[1]);
    expect(last.ensemble?.low.predictions[at]).toBeCloseTo(values[0] + 0.2 * (values[1] - values[0]), 5);
    expect(last.ensemble?.high.predictions[at]).toBeCloseTo(values[1] + 0.8 * (values[2] - values[1]), 5);
    const epoch1 = alone.map((a) => a[0].newLosses[0]);
    expect(snapshots[0].ensemble?.newLossMin[0]).toBe(Math.min(...epoch1));
    expect(snapshots[0].ensemble?.newLossMax[0]).toBe(Math.max(...epoch1));
    await population.dispose();
  });

  it('puts the band on the series chart beside the lines, and shows one member alone', async () => {
    const K = 2;
    const run = startRun(sine);
    const population = await createCpuPopulation(run.layout, K);
    let ensemble: EnsembleTrace | null = null;
    const trace = emptyTrace('cpu');
    await runPopulationSession(population, run, sine, { ...options, members: K }, new RunControl(), (s) => {
      ensemble = addToEnsemble(ensemble, s);
      Object.assign(trace, {
        predictions: s.predictions,
        predictionsFrom: s.predictionsFrom,
        forecast: s.forecast,
        forecastFrom: s.forecastFrom,
        future: s.future,
      });
      trace.losses.push(...s.newLosses);
    });
    await population.dispose();
    const lane = { backend: 'cpu' as const, label: 'CPU', trace, last: { epoch: 12 }, ensemble };
    const [shown] = lanesShowing([lane], null);
    const spec: ChartSpec = { xLabel: 'x', formatX: String, series: [], axes: [], height: 100 };
    const banded = withBandSeries(spec, [shown]);
    expect(banded.series).toHaveLength(4);
    expect(banded.bands).toEqual([
      { lower: 1, upper: 2, color: 'cpu' },
      { lower: 3, upper: 4, color: 'cpu' },
    ]);
    const rows = run.prepared.table.rows;
    const view = {
      positions: Float32Array.from({ length: rows }, (_, i) => i),
      values: run.prepared.table.values[0],
      window: 5,
      outputs: 1,
      output: 0,
    };
    const columns = withBandColumns([Array.from({ length: rows + 6 }, (_, i) => i)], view, [shown], 6);
    expect(columns).toHaveLength(5);
    const e = shown.ensemble!;
    // The one-step band at the first prediction's row, the forecast's band past the end.
    expect(columns[1][5]).toBe(e.low.predictions[0]);
    expect(columns[2][5]).toBe(e.high.predictions[0]);
    expect(columns[4][rows + 2]).toBe(e.high.future![2]);
    const [alone] = lanesShowing([lane], 1);
    expect(alone.ensemble).toBeNull();
    expect(alone.label).toBe('CPU, member 1 (seed 4)');
    expect(alone.trace.predictions).toBe(e.each!.values[1].predictions);
    expect(alone.trace.losses).toHaveLength(12);
  });

  it('says a browser that will not give the members their memory is the Members field’s problem', () => {
    const engine = new InputError(
      'backend',
      'the CPU backend needs 0.0 GiB for hidden 30, window 10 and batch 1, more memory than this machine gave (WebAssembly.Memory(): could not allocate memory); use fewer hidden units',
    );
    const said = membersMemoryProblem(engine, 256) as InputError;
    expect(said.field).toBe('members');
    expect(said.message).toMatch(
      /CPU backend's 256 members need more memory than this browser would give \(WebAssembly.Memory\(\): could not allocate memory\); use fewer members/,
    );
    // One model, or another failure, stays as it was.
    expect(membersMemoryProblem(engine, 1)).toBe(engine);
    const other = new InputError('batch', 'expected a batch');
    expect(membersMemoryProblem(other, 256)).toBe(other);
  });
});
