// `auto` for a command's many populations (src/cli/backends.ts PopulationOpener): a race the CPU won
// decides every later population of no more work a step, so a search races once, at its largest shape
// (src/cli/search.ts largestPopulation). The races here are injected: what is checked is which
// populations a win decides, not the timing of a real race (tests/backend-race.test.ts has those).

import { describe, expect, it } from 'vitest';
import type { AutoChoice } from '../src/backends/race.js';
import { type AutoRace, PopulationOpener } from '../src/cli/backends.js';
import { largestPopulation, readSearchSettings } from '../src/cli/search.js';
import { trainStepFlops } from '../src/model/flops.js';
import { paramLayout } from '../src/model/layout.js';

const layout = (hidden: number[], window = 4) =>
  paramLayout({ inputSize: 1, hiddenSizes: hidden, outputSize: 1, window });

function choice(backend: 'cpu' | 'webgpu', where: string): AutoChoice {
  const other = backend === 'cpu' ? 'webgpu' : 'cpu';
  return {
    backend,
    ratio: 9,
    msPerStep: { cpu: 1, webgpu: 9 },
    reason: `auto: ${backend}, 9× faster than ${other} ${where}`,
  };
}

/** A race that answers `answer` and counts its calls. */
function countedRace(answer: AutoChoice | null): AutoRace & { calls: number } {
  const race = Object.assign(
    async () => {
      race.calls++;
      return answer;
    },
    { calls: 0 },
  );
  return race;
}

describe('PopulationOpener under auto', () => {
  it("a CPU win decides the populations of no more work a step: smaller shapes, fewer members, and the race's own", async () => {
    const race = countedRace(choice('cpu', 'at hidden 5, batch 8, 4 members'));
    const opener = new PopulationOpener('auto', 1, race);
    expect(opener.decidedBy(layout([3]), 4, 8)).toBeNull();
    await opener.raceFirst(layout([5]), 4, 8);
    expect(race.calls).toBe(1);
    const reason = 'auto: cpu, 9× faster than webgpu at hidden 5, batch 8, 4 members';
    expect(opener.decidedBy(layout([5]), 4, 8)).toBe(reason);
    expect(opener.decidedBy(layout([3]), 4, 8)).toBe(reason);
    expect(opener.decidedBy(layout([5]), 2, 8)).toBe(reason);
    expect(opener.decidedBy(layout([5], 3), 4, 8)).toBe(reason);
    // More work a step than the race's: more units, more members, a longer window, a larger batch.
    expect(opener.decidedBy(layout([6]), 4, 8)).toBeNull();
    expect(opener.decidedBy(layout([5]), 5, 8)).toBeNull();
    expect(opener.decidedBy(layout([5], 5), 4, 8)).toBeNull();
    expect(opener.decidedBy(layout([5]), 4, 9)).toBeNull();
    expect(opener.decidedBy(layout([5, 1]), 4, 8)).toBeNull();
  });

  it('opens a decided population on the CPU without racing, its note giving the race that decided it', async () => {
    const race = countedRace(choice('cpu', 'at hidden 5, batch 8, 4 members'));
    const opener = new PopulationOpener('auto', 1, race);
    await opener.raceFirst(layout([5]), 4, 8);
    const opened = await opener.open(layout([3]), 2, 8);
    try {
      expect(race.calls).toBe(1);
      expect(opened.population.members).toBe(2);
      expect(opened.population.config.hiddenSizes).toEqual([3]);
      expect(opened.note).toBe(
        'backend: cpu, 2 members on 1 thread (auto: cpu, 9× faster than webgpu at hidden 5, batch 8, 4 members)',
      );
      expect(opener.note).toBe(opened.note);
    } finally {
      await opened.population.dispose();
    }
  });

  it('decides nothing where WebGPU won or no adapter answered, and never races for a named backend', async () => {
    for (const answer of [choice('webgpu', 'at hidden 5, batch 8, 4 members'), null]) {
      const opener = new PopulationOpener('auto', 1, countedRace(answer));
      await opener.raceFirst(layout([5]), 4, 8);
      expect(opener.decidedBy(layout([1]), 1, 1)).toBeNull();
    }
    for (const named of ['cpu', 'webgpu'] as const) {
      const race = countedRace(choice('cpu', 'at hidden 5, batch 8, 4 members'));
      const opener = new PopulationOpener(named, 1, race);
      await opener.raceFirst(layout([5]), 4, 8);
      expect(race.calls).toBe(0);
      expect(opener.decidedBy(layout([1]), 1, 1)).toBeNull();
    }
  });
});

describe("a search's largest population", () => {
  it('is the shape of the grid with the most work a step, with every learning rate and seed as members', () => {
    const s = readSearchSettings([
      '--hidden',
      '8,4/4,16,12/12',
      '--window',
      '6,10,3',
      '--lr',
      '0.01,0.03,0.1',
      '--seeds',
      '2',
      '--batch',
      '5',
    ]);
    const largest = largestPopulation(s.search);
    expect(largest.members).toBe(6);
    expect(largest.batch).toBe(5);
    const { hiddenSizes, window } = largest.layout.config;
    expect({ hiddenSizes, window }).toEqual({ hiddenSizes: [12, 12], window: 10 });
    // Every other shape of the grid has less work a step.
    for (const w of [6, 10, 3]) {
      for (const h of [[8], [4, 4], [16], [12, 12]]) {
        const config = { ...largest.layout.config, hiddenSizes: h, window: w };
        expect(trainStepFlops(config, 5)).toBeLessThanOrEqual(trainStepFlops(largest.layout.config, 5));
      }
    }
  });
});
