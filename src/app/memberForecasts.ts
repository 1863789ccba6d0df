// Every member's two free-running forecasts at a population's report (populationSession.ts): into the
// data from `from` and past its end. One batch-1 forward pass a step for each member: at K = 256 of
// the blog's task seconds of CPU at every report, so on the page (WebGPU) they run in a worker of
// their own (memberForecastWorker.ts), the members' weights sent packed in one transferred array; in
// the CPU worker and the tests they run here, in slices. The same function either way, on the same
// inputs, so the forecasts are the same numbers.
//
// Legend: K = members, P = parameters, S = forecast steps, F = steps past the end, O = output columns.

import type { PreparedData } from '../data/prepare.js';
import type { Run } from '../train/run.js';
import { forecastLevels } from './session.js';

/** What the forecasts need: the run's data and layout, and every member's weights. */
export interface MemberForecastRequest {
  prepared: PreparedData;
  run: Pick<Run, 'layout' | 'levels'>;
  /** (K·P) every member's weights, member after member. */
  params: Float32Array;
  members: number;
  /** The first row forecast into the data, and how many steps. */
  from: number;
  steps: number;
  /** The steps past the end of the data. */
  futureSteps: number;
}

/** (K)(S, O) and (K)(F, O). */
export interface MemberForecasts {
  forecast: Float32Array[];
  future: Float32Array[];
}

/** Runs `forecasts` on the request, in a worker or here. */
export type MemberForecaster = (request: MemberForecastRequest) => Promise<MemberForecasts>;

/** The members' weights packed for a request: (K·P). */
export function packParams(params: readonly Float32Array[]): Float32Array {
  const P = params[0]?.length ?? 0;
  const out = new Float32Array(params.length * P);
  params.forEach((p, m) => {
    out.set(p, m * P);
  });
  return out;
}

/** Each member's forecasts, `due` awaited before each member (where the caller yields to its events). */
export async function memberForecasts(
  request: MemberForecastRequest,
  due: () => Promise<void> = async () => {},
): Promise<MemberForecasts> {
  const { prepared, run, params, members, from, steps, futureSteps } = request;
  const P = params.length / members;
  const out: MemberForecasts = { forecast: [], future: [] };
  for (let m = 0; m < members; m++) {
    await due();
    const own = params.slice(m * P, (m + 1) * P);
    out.forecast.push(forecastLevels(prepared, own, run, from, steps));
    out.future.push(forecastLevels(prepared, own, run, prepared.table.rows, futureSteps));
  }
  return out;
}

/** The buffers of `forecasts`, to transfer them back from the worker rather than copy them. */
export function forecastBuffers(forecasts: MemberForecasts): ArrayBuffer[] {
  return [...forecasts.forecast, ...forecasts.future].map((f) => f.buffer as ArrayBuffer);
}
