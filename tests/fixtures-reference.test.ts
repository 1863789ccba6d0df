// The gradient fixtures' own checks: the committed files are what the float64 reference
// (tests/fixtures/reference64.ts) makes today, and its gradients agree with central finite differences.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/data/rng.js';
import { drawCase, FIXTURE_SPECS, finiteDifferences, fixtureFiles } from './fixtures/reference64.js';
import { fixturesDir } from './helpers.js';

/** Every number of a JSON value, in document order. */
const numbers = (value: unknown): number[] =>
  Array.isArray(value)
    ? value.flatMap(numbers)
    : typeof value === 'object' && value !== null
      ? Object.values(value).flatMap(numbers)
      : typeof value === 'number'
        ? [value]
        : [];

describe('gradient fixtures', () => {
  for (const spec of FIXTURE_SPECS) {
    it(`${spec.name}: the committed files are what \`npm run fixtures\` writes`, () => {
      const made = fixtureFiles(spec);
      const read = (file: string) => JSON.parse(readFileSync(join(fixturesDir, spec.name, `${file}.json`), 'utf8'));
      // The model and batch are drawn values rounded to float32: exactly equal.
      expect(read('model')).toEqual(JSON.parse(JSON.stringify(made.model)));
      expect(read('batch')).toEqual(made.batch);
      // The expected values pass through Math.exp and Math.tanh, whose last bit may differ by platform.
      const committed = read('expected');
      expect(Object.keys(committed).sort()).toEqual(['grads', 'loss', 'y']);
      const expected = numbers(committed);
      const actual = numbers(made.expected);
      expect(actual).toHaveLength(expected.length);
      const worst = Math.max(...actual.map((a, n) => Math.abs(a - expected[n]) / Math.max(1, Math.abs(expected[n]))));
      expect(worst).toBeLessThanOrEqual(1e-12);
    });
  }

  // tiny on every parameter; multi (two outputs) and stacked (gradients through a layer below) on
  // five drawn parameters of each tensor. Central differences in float64 agree to about 1e-9 here.
  for (const [name, perTensor] of [
    ['tiny', undefined],
    ['multi', 5],
    ['stacked', 5],
  ] as const) {
    it(`${name}: gradients match central finite differences within 1e-7 * max(1, |g|)`, () => {
      const spec = FIXTURE_SPECS.find((s) => s.name === name);
      if (!spec) throw new Error(`no fixture case ${name}`);
      const { params, batch } = drawCase(spec);
      const checks = finiteDifferences(params, batch, { perTensor, rng: new Rng(7) });
      expect(new Set(checks.map((c) => c.tensor)).size).toBe(3 * spec.hiddenSizes.length + 2);
      for (const { tensor, analytic, numeric } of checks) {
        expect(Math.abs(analytic - numeric), tensor).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(analytic)));
      }
    });
  }
});
