// A population's members' forecasts in a worker (src/app/memberForecastWorker.ts, memberForecasts.ts):
// the worker's handler, given the request as the page posts it (structured-cloned, the weights packed),
// answers each member's forecasts exactly as forecastLevels computes them on the page, and a
// population session whose forecasts go through it reports the same snapshots as one computing them
// in place.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MemberForecastRequest, MemberForecasts } from '../src/app/memberForecasts.js';
import { packParams } from '../src/app/memberForecasts.js';
import { runPopulationSession } from '../src/app/populationSession.js';
import { forecastLevels, pastEndSteps, RunControl, type Snapshot } from '../src/app/session.js';
import { workerScope } from '../src/app/workerJob.js';
import { createCpuPopulation } from '../src/backends/cpu/createCpuBackend.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { consecutiveSeeds, memberStarts } from '../src/train/members.js';
import { type RunSettings, startRun } from '../src/train/run.js';

const sine: RunSettings = {
  seed: 3,
  source: { kind: 'generated', spec: { kind: 'sine', points: 40, noise: 0.1 } },
  window: 5,
  hiddenSizes: [6],
};

/** The worker's onmessage on `request` as the page posts it: what it posts back, and the buffers it transfers. */
async function throughWorker(request: MemberForecastRequest): Promise<{ reply: unknown; transfer: ArrayBuffer[] }> {
  const posted: { reply: unknown; transfer: ArrayBuffer[] }[] = [];
  vi.stubGlobal('postMessage', (reply: unknown, transfer: ArrayBuffer[] = []) => posted.push({ reply, transfer }));
  await import('../src/app/memberForecastWorker.js');
  const handler = workerScope.onmessage as unknown as (event: { data: MemberForecastRequest }) => Promise<void>;
  await handler({ data: structuredClone(request) });
  expect(posted).toHaveLength(1);
  return posted[0];
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("a population's forecasts in a worker", () => {
  it("answers every member's two forecasts as forecastLevels computes them, and moves them back", async () => {
    const run = startRun(sine);
    const starts = memberStarts(sine, run, consecutiveSeeds(sine.seed, 3));
    const { prepared } = run;
    const from = prepared.boundary;
    const steps = prepared.table.rows - from;
    const futureSteps = pastEndSteps(run, 7);
    const request: MemberForecastRequest = {
      prepared,
      run: { layout: run.layout, levels: run.levels },
      params: packParams(starts.map((s) => s.params)),
      members: 3,
      from,
      steps,
      futureSteps,
    };
    const { reply, transfer } = await throughWorker(request);
    const { result } = reply as { type: 'result'; result: MemberForecasts };
    expect((reply as { type: string }).type).toBe('result');
    starts.forEach((start, m) => {
      expect(result.forecast[m]).toEqual(forecastLevels(prepared, start.params, run, from, steps));
      expect(result.future[m]).toEqual(forecastLevels(prepared, start.params, run, prepared.table.rows, futureSteps));
    });
    expect(result.forecast[0].length).toBe(steps * prepared.outputs.length);
    expect(transfer).toEqual([...result.forecast, ...result.future].map((f) => f.buffer));
  });

  it('gives a population session the same snapshots as its forecasts computed in place', async () => {
    const options = {
      epochs: 6,
      batchSize: 4,
      learningRate: 0.01,
      reportEvery: 3,
      optimizer: DEFAULT_OPTIMIZER,
      loss: 'sse' as const,
      lrDecay: 1,
      keepBest: false,
      patience: null,
      horizon: 5,
      members: 3,
    };
    const session = async (forecasts?: (request: MemberForecastRequest) => Promise<MemberForecasts>) => {
      const run = startRun(sine);
      const population = await createCpuPopulation(run.layout, options.members);
      const snapshots: Snapshot[] = [];
      await runPopulationSession(population, run, sine, { ...options, forecasts }, new RunControl(), (s) =>
        snapshots.push(s),
      );
      return snapshots;
    };
    let asked = 0;
    const inWorker = await session(async (request) => {
      asked++;
      const { reply } = await throughWorker(request);
      return (reply as { result: MemberForecasts }).result;
    });
    const inPlace = await session();
    expect(asked).toBe(inWorker.length);
    expect(inWorker.length).toBe(2);
    expect(inWorker[1].forecast).not.toBeNull();
    expect(inWorker.map((s) => [s.forecast, s.future, s.ensemble?.each?.values])).toEqual(
      inPlace.map((s) => [s.forecast, s.future, s.ensemble?.each?.values]),
    );
  });
});
