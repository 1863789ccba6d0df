// The built app against hostile and huge files (issue 33), in headless chromium: a model file is
// read in a worker of its own (nested brackets and an object of too many keys are refused beside the
// model control, the run already trained stays); a CSV of 100,000 columns is refused by the CSV
// worker; a large CSV comes back in columns, and the page's work after the worker hands it back is
// bounded (its main-thread CPU time) and its longest pause measured (a 10 ms timer's lateness).

import { cpus, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  chartCounts,
  pickBackend,
  setField,
  statsRows,
  textFile,
  useApp,
  waitForPhase,
  watched,
  watchPage,
} from './harness.js';

const open = useApp();

describe('hostile and huge files in the app', () => {
  it('reads model files in a worker: deep nesting and too many keys are refused, and the run trained stays', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await setField(page, 'epochs', '20');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished'], 60_000)).toBe('finished');
    const before = await statsRows(page);
    const chartsBefore = await chartCounts(page, 'error-chart');
    await watchPage(page);

    await page.setInputFiles('#model-file', textFile('deep.json', '['.repeat(4 * 2 ** 20), 'application/json'));
    await page.waitForFunction(() =>
      (document.querySelector('#model-error')?.textContent ?? '').startsWith('deep.json'),
    );
    expect(await page.textContent('#model-error')).toBe(
      'deep.json was not loaded: the file nests arrays and objects more than 64 levels deep (at byte 64); refused before parsing.',
    );
    const keys = `{${Array.from({ length: 200_000 }, (_, k) => `"key${k}":0`).join(',')}}`;
    await page.setInputFiles('#model-file', textFile('keys.json', keys, 'application/json'));
    await page.waitForFunction(() =>
      (document.querySelector('#model-error')?.textContent ?? '').startsWith('keys.json'),
    );
    expect(await page.textContent('#model-error')).toMatch(
      /^keys\.json was not loaded: the file has an object of more than 1,000 keys \(at byte [\d,]+\); refused before parsing\.$/,
    );
    const { workerNames } = await watched(page);
    // Each file in a worker of its own (the page may also load its spare training worker while idle).
    expect(workerNames.filter((name) => name !== 'cpu-training')).toEqual(['model-file', 'model-file']);
    // Nothing trained was lost.
    expect(await statsRows(page)).toEqual(before);
    expect(await chartCounts(page, 'error-chart')).toEqual(chartsBefore);
    expect(problems).toEqual([]);
  });

  it('refuses a CSV of 100,000 columns in its worker, and takes a large CSV back in columns', async () => {
    const { page, problems } = await open();
    await setField(page, 'source', 'csv');
    await watchPage(page);
    const header = Array.from({ length: 100_000 }, (_, c) => `c${c}`).join(',');
    await page.setInputFiles('#csv-file', textFile('wide.csv', `${header}\n${Array(100_000).fill('1').join(',')}\n`));
    await page.waitForFunction(() => (document.querySelector('#csv-error')?.textContent ?? '').startsWith('wide.csv'));
    expect(await page.textContent('#csv-error')).toBe(
      'wide.csv was not read: row 1: has more than 4,096 columns (separated by commas); at most 4,096 can be read.',
    );

    // 400,000 dated rows: the table comes back (values transferred, the dates one text) and is charted.
    const rows = 400_000;
    const start = Date.UTC(2000, 0, 1);
    const lines = ['date,value'];
    for (let i = 0; i < rows; i++) {
      lines.push(`${new Date(start + i * 3_600_000).toISOString()},${(Math.sin(i / 24) + i / 1e5).toFixed(4)}`);
    }
    await page.setInputFiles('#csv-file', textFile('hourly.csv', `${lines.join('\n')}\n`));
    // From the moment the worker has read the whole file (the bar at its end) to the chart drawn.
    await page.waitForFunction(() => document.querySelector<HTMLProgressElement>('#csv-progress')?.value === 1, null, {
      timeout: 120_000,
      polling: 5,
    });
    // The page's main-thread CPU time (Chromium's ThreadTime): unlike a pause, it hardly grows when
    // other processes load the machine, so it is what a bound can hold on a shared 2-core machine.
    const threadMs = await threadTime(page);
    const threadBefore = await threadMs();
    await watched(page);
    await page.waitForFunction(
      (n) =>
        JSON.parse(document.querySelector('#series-chart')?.getAttribute('data-counts') ?? '{}')['data (value)'] === n,
      rows,
      { timeout: 120_000 },
    );
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const { stalls } = await watched(page);
    const busy = (await threadMs()) - threadBefore;
    expect(await page.textContent('#csv-status')).toMatch(/^hourly\.csv: 400,000 rows, 1 value column/);
    // After the hand-back the page does no work per row beyond splitting the dates and drawing: about
    // 0.18 s of main-thread CPU in all (it was about 1 s, when the page found the season, cut every
    // window and copied each column several times), spread over several tasks, so no pause on a quiet
    // machine nears 200 ms. The pause itself is a wall-clock time that a loaded machine stretches
    // (seconds at a load of 15 on 2 cores), so it is logged with the load and held only to "no freeze".
    const load = loadavg()[0].toFixed(1);
    console.log(
      `after the CSV worker handed back ${rows} rows: longest pause ${Math.max(...stalls).toFixed(0)} ms, main-thread CPU ${busy.toFixed(0)} ms (load ${load} on ${cpus().length} cores)`,
    );
    expect(busy).toBeLessThan(400);
    expect(Math.max(...stalls)).toBeLessThan(5000);
    expect(problems).toEqual([]);
  });

  it('takes back a CSV of 1,500 rows × 4,000 columns with bounded main-thread work, its columns a page at a time', async () => {
    const { page, problems } = await open();
    await setField(page, 'source', 'csv');
    await watchPage(page);
    const rows = 1500;
    // The file is made in the page beforehand, so handing it over costs the page nothing in the span measured.
    await page.evaluate((n) => {
      const lines = [['date', ...Array.from({ length: 4000 }, (_, c) => `c${c}`)].join(',')];
      for (let i = 0; i < n; i++) {
        const row = [new Date(Date.UTC(2000, 0, 1 + i)).toISOString().slice(0, 10)];
        for (let c = 0; c < 4000; c++) row.push(String((i * 7 + c * 13) % 97));
        lines.push(row.join(','));
      }
      (window as unknown as { wide: File }).wide = new File([`${lines.join('\n')}\n`], 'wide.csv', {
        type: 'text/csv',
      });
    }, rows);
    // From the drop to the chart drawn: the worker parses the file, and the page's main-thread CPU time
    // (Chromium's ThreadTime) counts only the page's own work, the progress bar's and the hand-back's.
    const threadMs = await threadTime(page);
    const threadBefore = await threadMs();
    await watched(page);
    await page.evaluate(() => {
      const dataTransfer = new DataTransfer();
      dataTransfer.items.add((window as unknown as { wide: File }).wide);
      const drop = new DragEvent('drop', { dataTransfer, bubbles: true, cancelable: true });
      document.querySelector('#csv-drop')?.dispatchEvent(drop);
    });
    await page.waitForFunction(
      (n) =>
        JSON.parse(document.querySelector('#series-chart')?.getAttribute('data-counts') ?? '{}')['data (c0)'] === n,
      rows,
      { timeout: 120_000 },
    );
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const { stalls } = await watched(page);
    const busy = (await threadMs()) - threadBefore;
    expect(await page.textContent('#csv-status')).toMatch(/^wide\.csv: 1,500 rows, 4000 value columns/);
    const load = loadavg()[0].toFixed(1);
    console.log(
      `after the CSV worker handed back ${rows} rows × 4,000 columns: longest pause ${Math.max(...stalls).toFixed(0)} ms, main-thread CPU ${busy.toFixed(0)} ms (load ${load} on ${cpus().length} cores)`,
    );
    // A table of 4,001 rows and a select of 4,002 options took about 2.1 s of main-thread CPU to
    // build and lay out (pauses of 2-3 s); a page of 100 rows, and the select listing every column
    // once reached, take about 0.35 s with the parse's progress (0.1-0.15 s after the hand-back).
    expect(busy).toBeLessThan(800);

    // The chooser: the first 100 columns, a find box, and what is chosen.
    const names = () => page.$$eval('#csv-columns-body tr', (trs) => trs.map((tr) => tr.getAttribute('data-name')));
    expect(await names()).toHaveLength(100);
    expect(await page.textContent('#csv-columns-count')).toBe(
      '100 of 4,001 columns shown; type in “Find a column” to see others. Inputs: c0; outputs: c0.',
    );
    await page.fill('#csv-column-find', 'C3999');
    expect(await names()).toEqual(['c3999']);
    await page.check('#csv-columns-body tr[data-name="c3999"] input[data-role="inputs"]');
    expect(await page.textContent('#csv-columns-count')).toBe(
      '1 of 1 columns whose name holds "C3999" shown (4,001 in all). Inputs: c0, c3999; outputs: c0.',
    );
    // Enter in the find box starts no run.
    await page.press('#csv-column-find', 'Enter');
    await page.waitForTimeout(300);
    expect(await page.getAttribute('body', 'data-phase')).toBe('idle');
    await page.fill('#csv-column-find', '');
    await page.click('#csv-columns-more');
    expect(await names()).toHaveLength(200);
    expect(await page.textContent('#csv-columns-more')).toBe('Show 100 more columns');
    // The last page: the button goes, and the keyboard's focus goes to the first row it added.
    await page.fill('#csv-column-find', 'c39');
    await page.click('#csv-columns-more');
    expect(await names()).toHaveLength(111);
    expect(await page.isHidden('#csv-columns-more')).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('c3989 as an input');
    // The chart draws the data of the one output shown, not a series per column.
    expect(Object.keys(await chartCounts(page, 'series-chart'))).toEqual(['data (c0)']);
    // The date select lists every column once reached (focus, or a press on it).
    expect(await page.$$eval('#csv-date option', (options) => options.length)).toBe(2);
    await page.focus('#csv-date');
    expect(await page.$$eval('#csv-date option', (options) => options.length)).toBe(4002);
    expect(await page.inputValue('#csv-date')).toBe('date');
    expect(problems).toEqual([]);
  });
});

/** The page's main-thread CPU time in ms so far (Chromium's ThreadTime metric), as a function to call again. */
async function threadTime(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  return async () =>
    1000 * ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime')?.value ?? NaN);
}
