// K single backends behind the Population interface, trained one after another: a test's stand-in for a
// population engine, to check what is built on the interface (the trainer, search, ensembles,
// backtests) apart from the engines, whose own tests compare their shared-work populations with single
// backends. It is the CLI's temporary populationOfSingles until the engines land; then it moves here.

import type { Backend } from '../src/backends/backend.js';
import type { Population } from '../src/backends/population.js';
import { populationOfSingles } from '../src/cli/backends.js';

/** K single backends behind the Population interface, one after another (a test's stand-in for an engine). */
export function loopedPopulation(backends: Backend[]): Population {
  return populationOfSingles(backends);
}
