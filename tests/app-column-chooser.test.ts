// The CSV column chooser's paging and its summary line, computed before any DOM sees them.

import { describe, expect, it } from 'vitest';
import { CHOOSER_PAGE, chooserSummary, shownColumns } from '../src/app/columnChooser.js';

const columns = Array.from({ length: 4001 }, (_, c) => ({ name: c === 0 ? 'Date' : `c${c - 1}` }));
const none = { inputs: [], outputs: [], known: [] };

describe('the column chooser of a wide file', () => {
  it('shows the first page of columns, and more as the limit grows', () => {
    expect(shownColumns(columns, '', CHOOSER_PAGE)).toEqual({
      shown: Array.from({ length: CHOOSER_PAGE }, (_, c) => c),
      matches: 4001,
    });
    expect(shownColumns(columns, '', 2 * CHOOSER_PAGE).shown).toHaveLength(200);
  });

  it('finds columns by any part of the name, in any case, in file order', () => {
    expect(shownColumns(columns, ' C399', CHOOSER_PAGE)).toEqual({ shown: [400, ...range(3991, 4001)], matches: 11 });
    expect(shownColumns(columns, 'date', CHOOSER_PAGE)).toEqual({ shown: [0], matches: 1 });
    expect(shownColumns(columns, 'x', CHOOSER_PAGE)).toEqual({ shown: [], matches: 0 });
  });

  it('says what is shown and what is chosen, the long lists cut short', () => {
    expect(chooserSummary(4001, '', 4001, 100, { inputs: ['c0'], outputs: ['c0'], known: [] })).toBe(
      '100 of 4,001 columns shown; type in “Find a column” to see others. Inputs: c0; outputs: c0.',
    );
    const many = range(0, 8).map((c) => `c${c}`);
    expect(chooserSummary(4001, 'c1', 1111, 100, { inputs: many, outputs: ['c1'], known: ['c2'] })).toBe(
      '100 of 1,111 columns whose name holds "c1" shown (4,001 in all). Inputs: c0, c1, c2, c3, c4 and 3 more; outputs: c1; known ahead: c2.',
    );
    expect(chooserSummary(4001, 'zz', 0, 0, none)).toBe('No column\'s name holds "zz". Inputs: none; outputs: none.');
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
