// Settings in the page's link: only what differs from the defaults is written, everything written
// reads back the same, and a link's values go through the form's own parser: a refused value is
// reported for its field, which keeps its default; unknown and repeated keys are reported too.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultFieldValues, FIELDS, type FieldName, type FieldValues, fieldApplies } from '../src/app/fields.js';
import { describeNames, readLink, writeLink } from '../src/app/link.js';
import { parseSettings } from '../src/app/settings.js';

const noColumns = { inputs: null, outputs: null, knownAhead: null, date: undefined };

describe('settings in the link', () => {
  it('writes nothing for the defaults and reads an empty link as the defaults', () => {
    expect(writeLink(defaultFieldValues(), null, null)).toBe('');
    const setup = readLink('');
    expect(setup).toEqual({ values: defaultFieldValues(), backend: null, columns: noColumns, errors: {}, unknown: [] });
  });

  it('round-trips settings that differ from the defaults, with the backend and CSV columns', () => {
    const values = {
      ...defaultFieldValues('csv'),
      missing: 'drop',
      split: '0.7',
      hidden: '64, 32',
      optimizer: 'adam',
      'clip-norm': '1',
      window: '24',
    };
    const columns = { inputs: ['a b', 'c,d'], outputs: ['c,d'], knownAhead: ['a b'], date: null };
    const query = writeLink(values, 'both', columns);
    expect(query).toContain('source=csv');
    expect(query).not.toContain('epochs=');
    const setup = readLink(`?${query}`);
    expect(setup.values).toEqual(values);
    expect(setup.backend).toBe('both');
    expect(setup.columns).toEqual(columns);
    expect(setup.errors).toEqual({});
  });

  it('leaves out fields that do not apply (a period for a sine)', () => {
    const query = writeLink({ ...defaultFieldValues(), period: '7' }, null, null);
    expect(query).toBe('');
    expect(writeLink({ ...defaultFieldValues(), series: 'square', period: '7' }, null, null)).toBe(
      'series=square&period=7',
    );
  });

  it('round-trips any valid generated-series settings', () => {
    const text = (min: number, max: number) => fc.integer({ min, max }).map(String);
    fc.assert(
      fc.property(
        fc.record({
          window: text(1, 30),
          points: text(40, 400),
          seed: text(0, 2 ** 32 - 1),
          epochs: text(1, 5000),
          lr: fc.double({ min: 1e-6, max: 10, noNaN: true }).map(String),
          series: fc.constantFrom('sine', 'square', 'sawtooth', 'random-walk'),
          optimizer: fc.constantFrom('sgd', 'momentum', 'adam'),
        }),
        (picked) => {
          const values = { ...defaultFieldValues(), ...picked };
          fc.pre(parseSettings(values).ok);
          const setup = readLink(writeLink(values, null, null));
          expect(setup.errors).toEqual({});
          for (const { name } of FIELDS) {
            if (fieldApplies(name, values)) expect(setup.values[name]).toBe(values[name]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses bad values field by field, keeping the defaults and the rest of the link', () => {
    const setup = readLink('?window=0&hidden=64,32&lr=fast&normalise=log&epochs=20');
    expect(setup.values.window).toBe('10');
    expect(setup.values.lr).toBe('0.01');
    expect(setup.values.normalise).toBe('none');
    expect(setup.values.hidden).toBe('64,32');
    expect(setup.values.epochs).toBe('20');
    expect(setup.errors.window).toBe(
      'the link\'s value "0" was refused (expected a whole number from 1 to 4096, got 0); the default, 10, is used',
    );
    expect(setup.errors.lr).toMatch(/^the link's value "fast" was refused \(expected a number, got "fast"\)/);
    expect(setup.errors.normalise).toMatch(/expected one of z-score, min-max, none\); the default, none, is used$/);
    expect(parseSettings(setup.values).ok).toBe(true);
  });

  it('takes the defaults of the source the link names, and refuses an unknown source', () => {
    expect(readLink('?source=bundled&dataset=co2').values).toMatchObject({ split: '0.8', normalise: 'z-score' });
    const bad = readLink('?source=ftp&window=12');
    expect(bad.values.source).toBe('generated');
    expect(bad.values.window).toBe('12');
    expect(bad.errors.source).toMatch(/"ftp" was refused \(expected one of generated, bundled, csv\)/);
  });

  it('refuses a value that only fails beside another of the link, and reports what is not its own', () => {
    // points=12 is fine alone, but with window=20 the points must exceed the window: the link's
    // points value is refused and falls back to 50, which fits.
    const setup = readLink('?window=20&points=12');
    expect(setup.values).toMatchObject({ window: '20', points: '50' });
    expect(setup.errors.points).toMatch(/"12" was refused \(expected a whole number from 21 to 100000, got 12/);
    // A default refused only because of a value the link set is reported as the form would.
    const batch = readLink('?window=45');
    expect(batch.errors.window).toBeUndefined();
    expect(batch.errors.batch).toMatch(/from 1 to 5, got 8/);
  });

  it('reports unknown and repeated keys and a bad backend', () => {
    const setup = readLink('?window=12&window=13&colour=red&backend=tpu&inputs=');
    expect(setup.values.window).toBe('10');
    expect(setup.errors.window).toBe('the link gives window 2 times; its default is used');
    expect(setup.unknown).toEqual(['colour']);
    expect(setup.backend).toBeNull();
    expect(setup.errors.backend).toMatch(/"tpu" was refused/);
    expect(setup.errors.inputs).toMatch(/empty inputs column/);
  });

  it('takes every backend choice, auto (the default) too, and writes a picked one back', () => {
    for (const backend of ['auto', 'webgpu', 'cpu', 'both'] as const) {
      const setup = readLink(`?backend=${backend}`);
      expect(setup.backend).toBe(backend);
      expect(setup.errors).toEqual({});
      expect(readLink(writeLink(setup.values, setup.backend, null)).backend).toBe(backend);
    }
  });

  it('keeps markup in a link as plain text values', () => {
    const setup = readLink(`?source=csv&inputs=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
    expect(setup.columns.inputs).toEqual(['<img src=x onerror=alert(1)>']);
    const hostile = readLink('?__proto__=1&constructor=2');
    expect(hostile.unknown).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips every field, from the settings table, with a value other than its default', () => {
    /** Other fields' values under which a field applies. */
    const context: Partial<Record<FieldName, Partial<FieldValues>>> = {
      period: { series: 'square' },
      periods: { series: 'sum-of-sines' },
      dataset: { source: 'bundled' },
      symbol: { source: 'bundled' },
      missing: { source: 'csv' },
      decimal: { source: 'csv' },
      momentum: { optimizer: 'momentum' },
    };
    for (const field of FIELDS) {
      const setting = field.setting as typeof field.setting & { values?: string[] };
      const value = setting.default;
      let text: string;
      if (setting.values) text = setting.values.find((v) => v !== value)!;
      else if (Array.isArray(value)) text = setting.format([...value, 2]);
      else if (value === null) text = '1';
      else if (field.name === 'season') text = '12';
      else if (value === 0 && setting.kind === 'real') text = '0.1';
      // The CPU threads: 'auto' or a count.
      else if (value === 'auto') text = '2';
      else if (setting.kind === 'whole') text = setting.format((value as number) + 1);
      else text = setting.format((value as number) / 2);
      const values = { ...defaultFieldValues(context[field.name]?.source as 'generated'), ...context[field.name] };
      values[field.name] = text;
      if (field.name === 'source') values.dataset = 'co2';
      expect(fieldApplies(field.name, values), field.name).toBe(true);
      expect(parseSettings(values).ok, `${field.name}=${text}`).toBe(true);
      const setup = readLink(writeLink(values, null, null));
      expect(setup.errors, field.name).toEqual({});
      expect(setup.values[field.name]).toBe(text);
    }
  });

  it('echoes at most a few of a hostile link’s keys, each cut short', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `unknown-${i}-${'k'.repeat(50)}`);
    const setup = readLink(`?${keys.map((k) => `${k}=${'v'.repeat(20)}`).join('&')}&lr=${'9'.repeat(100_000)}`);
    expect(setup.unknown).toHaveLength(20_000);
    const named = describeNames(setup.unknown);
    expect(named).toMatch(/^unknown-0-k+…, unknown-1-k+…, .* and 19,995 more$/);
    expect(named.length).toBeLessThan(300);
    expect(setup.errors.lr!.length).toBeLessThan(300);
    expect(describeNames(['price', 'volume'], true)).toBe('"price", "volume"');
    expect(describeNames(['colour'])).toBe('colour');
  });
});
