// The built app with CSVs as brokers, spreadsheets in other locales and logging tools write them,
// and charts read at 1280 px and 420 px, light and dark (issue 13): dollar prices and a newest-first
// file turned around with a note; epoch timestamps as the dates, a row counter never the default,
// date-time ticks apart; decimal commas and quoted thousands with their header; a refused file read
// again when "drop the row" is chosen; the decimal-mark field; progress inside a long epoch; and in a
// race: the lines said to coincide, legend markers as dashed as their lines, each chart as a PNG and
// the charts' data as CSV, a question before leaving, why the sweep waits, Start and Pause in reach
// at 420 px. Screenshots go to test-results/.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AppPage,
  artifactsDir,
  axisProblems,
  chartCounts,
  chooseCsv,
  downloadBytesOf,
  downloadOf,
  drawnAxes,
  liveResources,
  overflowsSideways,
  pickBackend,
  screenshot,
  setField,
  useApp,
  waitForPhase,
} from './harness.js';

const open = useApp();

type Page = AppPage['page'];

const day = (i: number) => new Date(Date.UTC(2023, 0, 2) + i * 86_400_000);
const pad = (n: number) => String(n).padStart(2, '0');

/** A broker's export: newest first, month-first dates, dollar prices, a plain volume, a ticker. */
function brokerCsv(rows: number): string {
  const lines = ['Date,Close/Last,Volume,Open,Ticker'];
  for (let i = rows - 1; i >= 0; i--) {
    const d = day(i);
    const price = 150 + 0.3 * i + 6 * Math.sin(i / 4);
    lines.push(
      `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()},$${price.toFixed(2)},${50_000_000 + ((i * 7919) % 9_000_000)},$${(price - 1).toFixed(2)},AAPL`,
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A logging tool's export: a pandas index, epoch milliseconds a minute apart, a percent load. */
function loggingCsv(rows: number): string {
  const lines = [',timestamp,cpu_load,mem_mb'];
  const start = Date.UTC(2024, 0, 31, 13, 0);
  for (let i = 0; i < rows; i++) {
    lines.push(`${i},${start + i * 60_000},${(40 + 20 * Math.sin(i / 9)).toFixed(1)}%,${2048 + ((i * 37) % 300)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A German spreadsheet's export: semicolons, day-first dates with dots, decimal commas, dot thousands. */
function europeanCsv(rows: number): string {
  const lines = ['Datum;Kurs;Umsatz'];
  for (let i = 0; i < rows; i++) {
    const d = day(i);
    const kurs = (102 + 3 * Math.sin(i / 5) + 0.05 * i).toFixed(2).replace('.', ',');
    const umsatz = (1_234_567 + i * 1013).toLocaleString('de-DE');
    lines.push(`${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${d.getUTCFullYear()};${kurs};${umsatz}`);
  }
  return `${lines.join('\n')}\n`;
}

async function columnRows(page: Page): Promise<{ name: string; kind: string; note: string; boxes: number }[]> {
  return page.$$eval('#csv-columns-body tr', (trs) =>
    trs.map((tr) => ({
      name: tr.querySelector('.column-name')?.textContent ?? '',
      kind: tr.getAttribute('data-kind') ?? '',
      note: tr.querySelector('.column-note')?.textContent ?? '',
      boxes: tr.querySelectorAll('input').length,
    })),
  );
}

async function checkedColumns(page: Page, role: 'inputs' | 'outputs'): Promise<string[]> {
  return page.$$eval(`#csv-columns-body input[data-role="${role}"]`, (boxes) =>
    boxes
      .filter((box) => (box as HTMLInputElement).checked)
      .map((box) => box.closest('tr')?.getAttribute('data-name') ?? ''),
  );
}

async function expectAxesReadable(page: Page, chartId: string): Promise<void> {
  const axes = await drawnAxes(page, chartId);
  expect(axes.length).toBeGreaterThan(1);
  for (const axis of axes) {
    expect(axis.ticks.length, `${chartId} ${axis.label}`).toBeGreaterThan(0);
    expect(axisProblems(axis), `${chartId} ${axis.label}`).toBe('');
  }
}

async function train(page: Page, timeout = 90_000): Promise<string> {
  await page.click('#start');
  return waitForPhase(page, ['finished', 'stopped', 'diverged', 'failed'], timeout);
}

describe('CSVs as people export them', () => {
  it('reads dollar prices newest first, turns the file around with a note, and lists every column with what it is', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await chooseCsv(page, 'AAPL.csv', brokerCsv(120));
    expect(await page.textContent('#csv-error')).toBe('');
    expect(await page.textContent('#csv-status')).toBe(
      'AAPL.csv: 120 rows, 3 value columns (commas, a header row, dates in "Date"). The file runs newest first (by "Date"): its rows were reversed, so the held-out part is the newest.',
    );
    expect(await columnRows(page)).toEqual([
      { name: 'Date', kind: 'date', note: 'month-first dates', boxes: 0 },
      { name: 'Close/Last', kind: 'value', note: 'numbers like $1234.5', boxes: 3 },
      { name: 'Volume', kind: 'value', note: 'numbers like 1234.5', boxes: 3 },
      { name: 'Open', kind: 'value', note: 'numbers like $1234.5', boxes: 3 },
      { name: 'Ticker', kind: 'text', note: 'not numbers (row 2 holds "AAPL")', boxes: 0 },
    ]);
    expect(await checkedColumns(page, 'inputs')).toEqual(['Close/Last']);
    // The held-out part is the newest: the series chart's dates run forwards, the last is the file's first.
    await page.waitForFunction(() =>
      (document.querySelector('#data-summary')?.textContent ?? '').startsWith('AAPL.csv'),
    );
    const x = (await drawnAxes(page, 'series-chart'))[0];
    expect(x.ticks[0].text < x.ticks[x.ticks.length - 1].text).toBe(true);
    expect(x.ticks.every((t) => /^2023-\d\d-\d\d$/.test(t.text))).toBe(true);
    await expectAxesReadable(page, 'series-chart');

    // More inputs than outputs: the page says why there is no free-running forecast.
    await page.check('#csv-columns-body tr[data-name="Volume"] input[data-role="inputs"]');
    await page.waitForFunction(() =>
      (document.querySelector('#series-summary')?.textContent ?? '').includes('No free-running forecast'),
    );
    expect(await page.textContent('#series-summary')).toContain(
      'No free-running forecast: the model reads Close/Last, Volume but predicts only Close/Last, so a prediction cannot stand in for the next input (Volume is never predicted).',
    );
    await setField(page, 'epochs', '15');
    expect(await train(page)).toBe('finished');
    expect(await chartCounts(page, 'series-chart')).toMatchObject({ 'data (Close/Last)': 120, 'forecast (CPU)': 0 });
    for (const id of ['series-chart', 'error-chart', 'timing-chart']) await expectAxesReadable(page, id);
    await screenshot(page, 'app-broker-csv-1280.png', { at: '#results' });
    expect(problems).toEqual([]);
  });

  it('takes epoch milliseconds as the dates, never the row counter as the default, and keeps date-time ticks apart', async () => {
    for (const width of [1280, 420]) {
      const { page, problems } = await open({ width, height: 900 });
      await chooseCsv(page, 'metrics.csv', loggingCsv(400));
      expect(await page.textContent('#csv-status')).toBe(
        'metrics.csv: 400 rows, 3 value columns (commas, a header row, dates in "timestamp").',
      );
      const rows = await columnRows(page);
      expect(rows.map((r) => [r.name, r.kind])).toEqual([
        ['column 1', 'index'],
        ['timestamp', 'date'],
        ['cpu_load', 'value'],
        ['mem_mb', 'value'],
      ]);
      expect(rows[2].note).toBe('numbers like 1234.5%');
      expect(await checkedColumns(page, 'outputs')).toEqual(['cpu_load']);
      // Any column can be made the date column, and timestamp is it.
      expect(await page.inputValue('#csv-date')).toBe('timestamp');
      expect(await page.$$eval('#csv-date option', (options) => options.map((o) => o.textContent))).toEqual([
        'none',
        'column 1',
        'timestamp',
        'cpu_load',
        'mem_mb',
      ]);
      await page.waitForFunction(() =>
        (document.querySelector('#series-chart')?.getAttribute('data-axes') ?? '').includes('\\n'),
      );
      const x = (await drawnAxes(page, 'series-chart'))[0];
      expect(x.ticks.length).toBeGreaterThan(2);
      expect(x.ticks[0].text).toMatch(/^2024-01-31\n1[34]:\d\d$/);
      // Later ticks of the same day show their time only.
      expect(x.ticks[1].text).toMatch(/^1\d:\d\d$/);
      await expectAxesReadable(page, 'series-chart');
      await screenshot(page, `app-logging-csv-${width}.png`, { at: '#results' });
      expect(await overflowsSideways(page)).toBe(false);
      expect(problems).toEqual([]);
    }
  });

  it('reads decimal commas and dot thousands with their header, reads a refused file again for "drop the row", and follows the decimal-mark field', async () => {
    const { page, problems } = await open();
    await chooseCsv(page, 'kurse.csv', europeanCsv(90));
    expect(await page.textContent('#csv-status')).toBe(
      'kurse.csv: 90 rows, 2 value columns (semicolons, a header row, decimal commas, dates in "Datum").',
    );
    expect((await columnRows(page)).map((r) => [r.name, r.note])).toEqual([
      ['Datum', 'day-first dates'],
      ['Kurs', 'numbers like 1234,5'],
      ['Umsatz', 'numbers like 1.234,5'],
    ]);

    // A bad value refuses the file; choosing "drop the row" reads the same file again, no second pick.
    const bad = europeanCsv(40).replace(/;102,[0-9]+;/, ';unbekannt;');
    await chooseCsv(page, 'fehler.csv', bad);
    expect(await page.textContent('#csv-error')).toBe(
      'fehler.csv was not read: row 2, column "Kurs": expected a number like 1234,5, got "unbekannt" (or choose “drop the row” to skip such rows).',
    );
    await setField(page, 'missing', 'drop');
    await page.waitForFunction(() =>
      (document.querySelector('#csv-status')?.textContent ?? '').startsWith('fehler.csv:'),
    );
    expect(await page.textContent('#csv-status')).toMatch(
      /^fehler\.csv: 39 rows, .*; 1 row dropped \(row 2, column "Kurs"/,
    );
    expect(await page.textContent('#csv-error')).toBe('');

    // 1,234 alone in a tab-separated file: thousands by default, a decimal comma when the field says so.
    const lone = `a\tb\n${Array.from({ length: 40 }, (_, i) => `${i + 1},${String(100 + ((i * 37) % 900))}\t${(i * 7) % 11}`).join('\n')}\n`;
    await chooseCsv(page, 'lone.tsv', lone);
    const largest = async () => Math.max(...(await drawnAxes(page, 'series-chart'))[1].ticks.map((t) => t.value));
    await page.waitForFunction(() =>
      (document.querySelector('#data-summary')?.textContent ?? '').startsWith('lone.tsv'),
    );
    await page.waitForTimeout(300);
    expect(await largest()).toBeGreaterThan(1000);
    await setField(page, 'decimal', ',');
    await page.waitForFunction(() =>
      (document.querySelector('#csv-status')?.textContent ?? '').includes('decimal commas'),
    );
    await page.waitForTimeout(300);
    expect(await largest()).toBeLessThan(100);
    expect(problems).toEqual([]);
  });

  it('shows how far a long epoch has got instead of "preparing the first epochs…"', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    const rows = Array.from({ length: 40_000 }, (_, i) => (Math.sin(i / 7) + 0.1 * Math.sin(i / 3.1)).toFixed(5));
    await chooseCsv(page, 'long.csv', `v\n${rows.join('\n')}\n`);
    await setField(page, 'batch', '1');
    await setField(page, 'epochs', '3');
    await setField(page, 'hidden', '24');
    await page.click('#start');
    // 27,989 training windows at batch 1 (70% of the rows train; a CSV is differenced): each epoch takes
    // seconds. The lane says "0 of" as training starts, then how far it has got.
    await page.waitForFunction(
      () =>
        /^epoch [12]: \d+% \([1-9][\d,]* of 27,989 steps\)/.test(
          document.querySelector('.lane-meta')?.textContent ?? '',
        ),
      null,
      { timeout: 60_000 },
    );
    const bar = await page.$eval('.lane progress', (p) => (p as HTMLProgressElement).value);
    expect(bar).toBeGreaterThan(0);
    await page.click('#stop');
    await waitForPhase(page, ['stopped'], 10_000);
    expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });
    expect(problems).toEqual([]);
  });
});

/** The width and height a PNG's header gives. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('charts people can read and take away', () => {
  it('in a race: coinciding lines said, dashed markers, PNGs and the CSV, a question before leaving, the sweep’s wait explained, buttons in reach at 420 px', async () => {
    // One page for both schemes, dark first, then light with a second race on it: the browser's GPU
    // process compiled the WebGPU pipelines for the first race (on SwiftShader most of a race's
    // start), and the second reuses them. Each scheme's race is drawn, asserted and captured afresh.
    const opened = await open({ colorScheme: 'dark' });
    const { page } = opened;
    for (const colorScheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme });
      expect(await page.evaluate((s) => matchMedia(`(prefers-color-scheme: ${s})`).matches, colorScheme)).toBe(true);
      await pickBackend(page, 'both');
      await setField(page, 'epochs', '20');
      expect(await train(page, 240_000)).toBe('finished');
      const summary = (await page.textContent('#series-summary')) ?? '';
      expect(summary).toMatch(
        /WebGPU’s predictions and forecast are (identical to the CPU’s to 1e-\d+ \(relative\)|exactly equal to the CPU’s), so the two lines are drawn on top of each other\./,
      );
      expect(await page.textContent('#error-summary')).toMatch(
        /WebGPU’s errors per epoch are (identical|exactly equal)/,
      );
      // Solid ms/epoch and dashed steps/s of the same backend: markers as different as the lines.
      const markers = await page.$$eval('#timing-chart .u-legend tr', (rows) =>
        rows.slice(1).map((row) => ({
          label: row.querySelector('.u-label')?.textContent ?? '',
          image: getComputedStyle(row.querySelector('.u-marker')!).backgroundImage,
        })),
      );
      const marker = (label: string) => markers.find((m) => m.label === label)!.image;
      expect(marker('ms/epoch (WebGPU)')).not.toBe(marker('steps/s (WebGPU)'));
      expect(decodeURIComponent(marker('steps/s (WebGPU)'))).toContain('stroke-dasharray');
      expect(decodeURIComponent(marker('ms/epoch (WebGPU)'))).not.toContain('stroke-dasharray');
      for (const id of ['series-chart', 'error-chart', 'timing-chart']) {
        await expectAxesReadable(page, id);
        const canvas = page.locator(`#${id} canvas`).first();
        expect(await canvas.getAttribute('role')).toBe('img');
        const described = (await canvas.getAttribute('aria-describedby')) ?? '';
        expect(((await page.textContent(`#${described}`)) ?? '').length).toBeGreaterThan(20);
      }
      await screenshot(page, `app-race-1280-${colorScheme}.png`, { fullPage: true });
      if (colorScheme === 'dark') continue;

      // Each chart as a PNG: the plot with a title above and a legend below it.
      for (const [button, name, chart] of [
        ['#series-png', 'webgpu-lstm-series.png', '#series-chart'],
        ['#error-png', 'webgpu-lstm-error.png', '#error-chart'],
        ['#timing-png', 'webgpu-lstm-timing.png', '#timing-chart'],
      ] as const) {
        const png = await downloadBytesOf(page, button);
        expect(png.name).toBe(name);
        writeFileSync(join(artifactsDir, `export-${name}`), png.bytes);
        const size = pngSize(png.bytes);
        const canvas = await page.$eval(`${chart} canvas`, (c) => ({
          width: (c as HTMLCanvasElement).width,
          height: (c as HTMLCanvasElement).height,
        }));
        expect(size.width).toBe(canvas.width);
        expect(size.height).toBeGreaterThan(canvas.height + 40);
      }
      // The charts' data as one tidy CSV.
      const csv = await downloadOf(page, '#download-series');
      expect(csv.name).toBe('webgpu-lstm-series.csv');
      const lines = csv.text.trim().split('\n');
      expect(lines[0]).toBe('series,backend,epoch,row,x,date,column,value');
      const count = (prefix: string) => lines.filter((line) => line.startsWith(prefix)).length;
      expect(count('data,')).toBe(50);
      expect(count('prediction,WebGPU,20,')).toBe(40);
      expect(count('prediction,CPU,20,')).toBe(40);
      expect(count('forecast,CPU,20,')).toBe(40);
      expect(count('training error,WebGPU,')).toBe(20);

      // A run in progress: leaving asks first; the Benchmark tab says why its sweep waits.
      await setField(page, 'epochs', '100000');
      await pickBackend(page, 'cpu');
      await page.click('#start');
      await waitForPhase(page, ['running'], 30_000);
      await page.click('#tab-bench');
      expect(await page.isDisabled('#bench-run')).toBe(true);
      expect(await page.textContent('#bench-blocked')).toBe(
        'A training run is in progress on the Train tab: the sweep can start once it finishes or is stopped, so that the two are not timed at once.',
      );
      await page.click('#tab-train');
      const dialog = page.waitForEvent('dialog');
      await page.close({ runBeforeUnload: true });
      expect((await dialog).type()).toBe('beforeunload');
      // The harness answered "stay": the page is still there, and the run still goes.
      expect(page.isClosed()).toBe(false);
      expect(await page.getAttribute('body', 'data-phase')).toBe('running');

      // At 420 px the run buttons stay at the foot of the window while a chart is in view.
      await page.setViewportSize({ width: 420, height: 860 });
      await page.locator('#error-chart').scrollIntoViewIfNeeded();
      const inReach = await page.evaluate(() => {
        const hit = (id: string) => {
          const box = document.getElementById(id)!.getBoundingClientRect();
          const inside = box.top >= 0 && box.bottom <= window.innerHeight;
          return inside && document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)?.id === id;
        };
        const chart = document.getElementById('error-chart')!.getBoundingClientRect();
        return {
          start: hit('start'),
          pause: hit('pause'),
          chartInView: chart.top >= 0 && chart.top < window.innerHeight - 100,
        };
      });
      expect(inReach).toEqual({ start: true, pause: true, chartInView: true });
      await page.click('#pause');
      await waitForPhase(page, ['paused'], 30_000);
      await screenshot(page, 'app-race-420-buttons.png');
      expect(await overflowsSideways(page)).toBe(false);
      await page.click('#stop');
      await waitForPhase(page, ['stopped'], 30_000);
      expect(opened.problems.filter((p) => !p.startsWith('dialog: beforeunload'))).toEqual([]);
      expect(opened.problems.filter((p) => p.startsWith('dialog: beforeunload'))).toHaveLength(1);
    }
  }, 480_000);
});
