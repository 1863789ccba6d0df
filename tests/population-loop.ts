// K single backends behind the Population interface, trained one after another: a test's stand-in for a
// population engine, to check what is built on the interface (the trainer, search, ensembles,
// backtests) apart from the engines, whose own tests compare their shared-work populations with single
// backends.

import type { Backend } from '../src/backends/backend.js';
import { type Population, singleMember } from '../src/backends/population.js';

/** K single backends behind the Population interface, one after another (a test's stand-in for an engine). */
export function loopedPopulation(backends: Backend[]): Population {
  const views = backends.map(singleMember);
  const each = <T>(f: (view: Population, m: number) => T) => views.map(f);
  const first = backends[0];
  const windowValues = first.config.window * first.config.inputSize;
  return {
    name: first.name,
    config: first.config,
    layout: first.layout,
    members: backends.length,
    gpu: null,
    setMemberParams: (m, params) => views[m].setMemberParams(0, params),
    readMemberParams: async () => (await Promise.all(each((v) => v.readMemberParams()))).flat(),
    predictMembers: async (x, count, own) =>
      (
        await Promise.all(
          each((v, m) =>
            v.predictMembers(own ? x.subarray(m * count * windowValues, (m + 1) * count * windowValues) : x, count),
          ),
        )
      ).flat(),
    memberGradients: async (x, t, b) => (await Promise.all(each((v) => v.memberGradients(x, t, b)))).flat(),
    setMemberTraining: (data, batch, ranges) => each((v, m) => v.setMemberTraining(data, batch, [ranges[m]])),
    setMemberValidation: (data, ranges) => each((v, m) => v.setMemberValidation(data, ranges && [ranges[m]])),
    setMemberOptimizers: (settings) => each((v, m) => v.setMemberOptimizers([settings[m]])),
    async trainMembers(epoch, options) {
      for (const [m, view] of views.entries()) {
        if (epoch.active?.[m] === false) continue;
        await view.trainMembers({ orders: [epoch.orders[m]], learningRates: [epoch.learningRates[m]] }, options);
      }
    },
    readMemberLosses: async () => (await Promise.all(each((v) => v.readMemberLosses()))).flat(),
    readMemberOptimizerStates: async () => (await Promise.all(each((v) => v.readMemberOptimizerStates()))).flat(),
    setMemberOptimizerState: (m, state) => views[m].setMemberOptimizerState(0, state),
    finish: async () => undefined,
    dispose: async () => {
      await Promise.all(backends.map((b) => b.dispose()));
    },
  };
}
