// The Train view as a workspace, in headless chromium: after Start the summary sentence and the
// series chart come into view (1280×800 and 420×900, the README's screenshots), with the settings
// folded away; a keyboard-only run with the focus where the next action is and a focus ring unlike
// the selected state; axe-core on the Train, Benchmark and data views in both schemes; runs kept
// across a reload, ten overlaid without a stall, one reopened and its model downloaded; and `auto`
// reaching its first training step soon after Start on every bundled source.

import { copyFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers.js';
import {
  artifactsDir,
  chooseCsv,
  downloadOf,
  dropFile,
  pickBackend,
  setField,
  useApp,
  waitForPhase,
} from './harness.js';

const open = useApp();

/** Whether an element lies wholly inside the window (less what the fixed run buttons cover). */
async function inView(page: Page, selector: string): Promise<{ top: number; bottom: number; limit: number }> {
  return page.evaluate((sel) => {
    const box = document.querySelector(sel)!.getBoundingClientRect();
    const bar = document.querySelector<HTMLElement>('.run-buttons');
    const covered = bar && getComputedStyle(bar).position === 'fixed' ? bar.offsetHeight : 0;
    return { top: box.top, bottom: box.bottom, limit: window.innerHeight - covered };
  }, selector);
}

/** Opens the settings where a run folded them away. */
async function openSettings(page: Page): Promise<void> {
  if ((await page.getAttribute('#settings-toggle', 'aria-expanded')) === 'false') await page.click('#settings-toggle');
}

async function firstReport(page: Page): Promise<void> {
  await page.waitForFunction(() => Number(document.querySelector('.lane')?.getAttribute('data-epoch')) >= 1, null, {
    timeout: 60_000,
  });
}

describe('the Train view as a workspace', () => {
  for (const { width, height, shot } of [
    { width: 1280, height: 800, shot: 'screenshot.png' },
    { width: 420, height: 900, shot: 'screenshot-phone.png' },
  ]) {
    it(`brings the summary and the series chart into view after Start at ${width}×${height}`, async () => {
      const { page, problems } = await open({ width, height });
      await pickBackend(page, 'cpu');
      await setField(page, 'epochs', '400');
      // Start from the foot of the settings, as a person who has just set them would.
      await page.locator('#defaults').scrollIntoViewIfNeeded();
      await page.click('#start');
      await firstReport(page);
      expect(await page.getAttribute('#settings-toggle', 'aria-expanded')).toBe('false');
      expect(await page.isHidden('#settings-body')).toBe(true);
      for (const selector of ['#verdict', '#series-chart']) {
        const box = await inView(page, selector);
        expect(box.top, `${selector} top`).toBeGreaterThanOrEqual(0);
        expect(box.bottom, `${selector} bottom`).toBeLessThanOrEqual(box.limit);
      }
      // Nothing jumps while the run reports: the series chart stays where it was.
      const before = await inView(page, '#series-chart');
      await page.waitForFunction(() => Number(document.querySelector('.lane')?.getAttribute('data-epoch')) >= 60);
      expect((await inView(page, '#series-chart')).top).toBeCloseTo(before.top, 0);
      expect(await page.textContent('#verdict')).toMatch(/RMSE|error/);
      expect(await waitForPhase(page, ['finished'], 120_000)).toBe('finished');
      await page.screenshot({ path: join(artifactsDir, `workspace-${width}.png`) });
      if (process.env.UPDATE_SCREENSHOTS)
        copyFileSync(join(artifactsDir, `workspace-${width}.png`), join(repoRoot, 'docs', shot));
      // The settings open again from their heading.
      await page.click('#settings-toggle');
      expect(await page.isVisible('#field-window')).toBe(true);
      expect(problems).toEqual([]);
    });
  }
});

/** axe-core's script, read once for the file. */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  // Loaded once a page: each load of the script (hundreds of kB) is parsed and run again.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe;
    type AxeResults = { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
    return axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}

describe('the workspace by keyboard, for assistive technology, and across reloads', () => {
  it('runs from the keyboard alone, the focus on the next control and its ring unlike the selected state', async () => {
    const { page, problems } = await open({ suffix: '?epochs=200000' });
    const active = () =>
      page.evaluate(() => document.activeElement?.id || document.activeElement?.getAttribute('name'));
    // From the top of the page to the backend choice, and on to the CPU with the arrow keys.
    for (let i = 0; i < 12 && (await active()) !== 'backend'; i++) await page.keyboard.press('Tab');
    expect(await active()).toBe('backend');
    while (!(await page.isChecked('input[name="backend"][value="cpu"]'))) await page.keyboard.press('ArrowRight');
    const ring = await page.evaluate(() => {
      const span = document.querySelector('input[name="backend"]:focus-visible + span')!;
      const style = getComputedStyle(span);
      return {
        outline: style.outlineStyle,
        width: style.outlineWidth,
        color: style.outlineColor,
        fill: style.backgroundColor,
      };
    });
    expect(ring.outline).toBe('solid');
    expect(Number.parseFloat(ring.width)).toBeGreaterThanOrEqual(2);
    expect(ring.color).not.toBe(ring.fill);
    await page.keyboard.press('Tab');
    expect(await active()).toBe('start');
    await page.keyboard.press('Enter');
    await waitForPhase(page, ['running'], 10_000);
    await page.waitForFunction(() => document.activeElement?.id === 'pause');
    await page.keyboard.press('Space');
    expect(await waitForPhase(page, ['paused'], 10_000)).toBe('paused');
    expect(await active()).toBe('pause');
    await page.keyboard.press('Enter');
    expect(await waitForPhase(page, ['running'], 10_000)).toBe('running');
    await page.keyboard.press('Tab');
    expect(await active()).toBe('stop');
    await page.keyboard.press('Enter');
    expect(await waitForPhase(page, ['stopped'], 10_000)).toBe('stopped');
    await page.waitForFunction(() => document.activeElement?.id === 'start');
    // Start, then Reset: Tab skips the disabled Pause and Stop.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await active()).toBe('start');
    for (let i = 0; i < 4 && (await active()) !== 'reset'; i++) await page.keyboard.press('Tab');
    expect(await active()).toBe('reset');
    await page.keyboard.press('Enter');
    expect(await waitForPhase(page, ['idle'], 10_000)).toBe('idle');
    await page.waitForFunction(() => document.activeElement?.id === 'start');
    const button = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(button).toBe('solid');
    expect(problems).toEqual([]);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`has no serious or critical axe violations on the Train, data and Benchmark views (${colorScheme})`, async () => {
      const { page, problems } = await open({ colorScheme, suffix: '?epochs=20&backend=cpu' });
      await page.click('#start');
      expect(await waitForPhase(page, ['finished'], 60_000)).toBe('finished');
      const train = await axeViolations(page);
      await page.click('#settings-toggle');
      await chooseCsv(
        page,
        'two.csv',
        'time,load_a,load_b\n' +
          Array.from(
            { length: 60 },
            (_, i) => `2024-01-01T${String(i % 24).padStart(2, '0')}:00:00Z,${i},${2 * i}`,
          ).join('\n'),
      );
      const data = await axeViolations(page);
      await page.click('#tab-bench');
      const bench = await axeViolations(page);
      console.log(
        `axe (${colorScheme}): train ${train.length}, data ${data.length}, benchmark ${bench.length} serious or critical`,
      );
      expect({ train, data, bench }).toEqual({ train: [], data: [], bench: [] });
      expect(problems).toEqual([]);
    });
  }

  it('keeps runs across a reload, overlays ten, reopens one and downloads its model', async () => {
    const { page, problems } = await open({ suffix: '?epochs=5&report=5&backend=cpu' });
    for (let n = 1; n <= 10; n++) {
      if (n > 1) {
        await openSettings(page);
        // The same data (the seed draws the sine's noise), another learning rate: overlays draw predictions.
        await setField(page, 'lr', (0.002 * n).toFixed(3));
      }
      await page.click('#start');
      expect(await waitForPhase(page, ['finished'], 60_000)).toBe('finished');
    }
    const runs = () => page.$$eval('#runs-table tbody[data-run-id]', (bodies) => bodies.length);
    expect(await runs()).toBe(10);
    // Kept in the browser: a reload asks nothing (the harness counts any dialog) and lists them all.
    await page.waitForFunction(() => !document.querySelector('#runs-status')?.textContent);
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody[data-run-id]').length === 10);
    expect(await page.textContent('#runs-table tbody tr[data-run="10"] th')).toMatch(/^#10/);

    // Ten runs overlaid on the charts while another trains: the longest stall of the page, measured.
    await page.evaluate(() => {
      const w = window as unknown as { stall: number };
      w.stall = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.stall = Math.max(w.stall, entry.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    const boxes = page.locator('#runs-table tbody[data-run-id] input[data-action="overlay"]');
    for (let i = 0; i < 10; i++) await boxes.nth(i).check();
    // Each box keeps the focus as its row is drawn again with its colour.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-action'))).toBe('overlay');
    const errors = JSON.parse((await page.getAttribute('#error-chart', 'data-counts')) ?? '{}') as Record<
      string,
      number
    >;
    expect(Object.keys(errors).filter((label) => /^error \(#\d+ CPU\)$/.test(label))).toHaveLength(10);
    await openSettings(page);
    await setField(page, 'epochs', '300');
    await setField(page, 'report', '10');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished'], 60_000)).toBe('finished');
    const series = JSON.parse((await page.getAttribute('#series-chart', 'data-counts')) ?? '{}') as Record<
      string,
      number
    >;
    expect(series['prediction (#3 CPU)']).toBe(40);
    await page.locator('.runs').screenshot({ path: join(artifactsDir, 'workspace-runs.png') });
    const stall = await page.evaluate(() => (window as unknown as { stall: number }).stall);
    console.log(`longest stall with ten runs overlaid: ${Math.round(stall)} ms`);

    // Reopen run #3: its settings back in the form, the run alone on the charts.
    await page.click('#runs-table tbody tr[data-run="3"] [data-action="reopen"]');
    expect(await page.inputValue('#field-lr')).toBe('0.006');
    expect(await page.inputValue('#field-epochs')).toBe('5');
    const model = await downloadOf(page, '#runs-table tbody tr[data-run="3"] [data-action="download"]');
    expect(model.name).toBe('webgpu-lstm-run-3.json');
    expect(JSON.parse(model.text)).toMatchObject({ format: 'webgpu-lstm/model', training: { epoch: 5 } });
    expect(problems).toEqual([]);
  });

  it('starts auto training within moments of Start on every bundled source, on the CPU while WebGPU is timed', async () => {
    const times: Record<string, number> = {};
    for (const source of [
      '',
      '?source=bundled&dataset=stocks',
      '?source=bundled&dataset=sp500',
      // co2's 741 months at the default 101 epochs train on long after the race is decided; what is
      // checked here (the first step, on the CPU, the run finishing, the race's sentence) needs only a
      // few reports, and the race's shape (window, hidden, batch) stays co2's default.
      '?source=bundled&dataset=co2&epochs=20',
    ]) {
      const { page, problems } = await open({ suffix: source });
      // As a person presses Start: a moment after the page has loaded (its spare CPU worker with it).
      await page.waitForTimeout(1000);
      await page.click('#start');
      await page.waitForSelector('.lane[data-first-step-ms]', { timeout: 30_000 });
      times[source || 'sine'] = Number(await page.getAttribute('.lane', 'data-first-step-ms'));
      // The run did not wait for WebGPU: it trains on the CPU from the start.
      expect(await page.getAttribute('.lane', 'data-backend')).toBe('cpu');
      expect(await waitForPhase(page, ['finished'], 120_000)).toBe('finished');
      await page.waitForSelector('#backend-auto:not([data-auto="racing"])', { timeout: 120_000 });
      // On a software adapter the CPU wins at these sizes, and says so plainly.
      if ((await page.getAttribute('#adapter', 'data-software')) === 'true') {
        expect(await page.textContent('#backend-auto')).toMatch(
          /^auto: the CPU\. WebGPU here is a software emulation, about [\d,.]+× slower than the CPU at hidden \d+, batch \d+\.$/,
        );
      }
      expect(problems).toEqual([]);
    }
    console.log(`auto: Start to the first training step, ms: ${JSON.stringify(times)}`);
  });
});

/** Hourly load of two feeders for `days` days: a daily cycle in each. */
function hourlyLoad(days: number): string {
  const lines = ['time;load_a;load_b'];
  const start = Date.UTC(2024, 0, 1);
  for (let h = 0; h < days * 24; h++) {
    const time = new Date(start + h * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    const a = 50 + 20 * Math.sin((2 * Math.PI * h) / 24) + (h % 7);
    lines.push(`${time};${a.toFixed(1).replace('.', ',')};${(a * 1.5).toFixed(1).replace('.', ',')}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('charts and data that show what matters', () => {
  it('marks a far benchmark at the edge instead of squashing the curves, and says which part the residuals are', async () => {
    const { page, problems } = await open({ suffix: '?source=bundled&dataset=stocks&epochs=30&backend=cpu' });
    await page.click('#start');
    expect(await waitForPhase(page, ['finished'], 60_000)).toBe('finished');
    const offScale = JSON.parse((await page.getAttribute('#error-chart', 'data-off-scale')) ?? '[]') as {
      label: string;
      edge: string;
    }[];
    expect(offScale.map((m) => m.label)).toContain('seasonal naive (12)');
    await page.locator('#error-chart').screenshot({ path: join(artifactsDir, 'workspace-stocks-error.png') });
    expect(await page.textContent('#residual-title')).toBe('Residuals on the held-out part');
    // Every axis title fits along its axis.
    for (const id of ['series-chart', 'error-chart', 'timing-chart', 'residual-chart']) {
      for (const axis of JSON.parse((await page.getAttribute(`#${id}`, 'data-axes')) ?? '[]') as {
        label: string;
        titleWidth: number;
        length: number;
      }[]) {
        expect(axis.titleWidth, `${id}: ${axis.label}`).toBeLessThanOrEqual(axis.length);
      }
    }
    expect(await page.textContent('#series-summary')).toMatch(/^AAPL share price: 123 rows/);
    expect(problems).toEqual([]);
  });

  it('reads a CSV dropped on a chart, follows its season, errors per column, and checks a field when it is left', async () => {
    const { page, problems } = await open({ suffix: '?backend=cpu&epochs=3' });
    // Dropped on the series chart, not the drop box: the page reads it, the browser stays.
    await dropFile(page, '#series-chart', 'load.csv', hourlyLoad(20));
    await page.waitForFunction(() =>
      (document.querySelector('#csv-status')?.textContent ?? '').startsWith('load.csv:'),
    );
    expect(await page.inputValue('#field-source')).toBe('csv');
    expect(await page.isVisible('#csv-columns')).toBe(true);
    // Hourly rows: a season of 24, and a window that sees all of it.
    expect(await page.inputValue('#field-window')).toBe('24');
    await page.waitForFunction(() => (document.querySelector('#source-note')?.textContent ?? '').includes('hourly'));
    expect(await page.textContent('#source-note')).toMatch(
      /dates are hourly: a season of 24 rows, and the window \(24 rows\) sees at least one whole season/,
    );
    // Daily rows over two years and more: a yearly season, and the window follows it (it was ours).
    const daily = ['date,temperature'];
    for (let d = 0; d < 800; d++) {
      daily.push(
        `${new Date(Date.UTC(2020, 0, 1) + d * 86_400_000).toISOString().slice(0, 10)},${(10 + 8 * Math.sin((2 * Math.PI * d) / 365)).toFixed(1)}`,
      );
    }
    await dropFile(page, '#error-chart', 'temperature.csv', `${daily.join('\n')}\n`);
    await page.waitForFunction(() =>
      (document.querySelector('#csv-status')?.textContent ?? '').startsWith('temperature.csv:'),
    );
    expect([await page.inputValue('#field-season'), await page.inputValue('#field-window')]).toEqual(['365', '365']);
    await page.waitForFunction(() => (document.querySelector('#source-note')?.textContent ?? '').includes('yearly'));
    // A person's window stays theirs: back to the hourly file, which keeps 24 only as the season's.
    await setField(page, 'window', '48');
    await dropFile(page, '#series-chart', 'load.csv', hourlyLoad(20));
    await page.waitForFunction(() =>
      (document.querySelector('#csv-status')?.textContent ?? '').startsWith('load.csv:'),
    );
    expect([await page.inputValue('#field-season'), await page.inputValue('#field-window')]).toEqual(['auto', '48']);
    await page.check('#csv-columns-body input[data-role="outputs"][data-column="1"]');
    await page.check('#csv-columns-body input[data-role="inputs"][data-column="1"]');
    // A decimal comma, told what to type; checked as the field is left.
    await page.fill('#field-lr', '0,5');
    await page.press('#field-lr', 'Tab');
    expect(await page.textContent('#field-lr-error')).toBe('expected a number, got "0,5"; use a point: 0.5');
    await page.fill('#field-lr', '0.01');
    await page.press('#field-lr', 'Tab');
    expect(await page.textContent('#field-lr-error')).toBe('');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished'], 60_000)).toBe('finished');
    const heads = await page.$$eval('#stats-head th', (ths) => ths.map((th) => th.textContent));
    expect(heads).toContain('RMSE load_a, held-out');
    expect(heads).toContain('RMSE load_b, held-out');
    const rmse = JSON.parse((await page.getAttribute('#stats-body tr', 'data-rmse-columns')) ?? '[]') as number[];
    expect(rmse).toHaveLength(2);
    expect(problems).toEqual([]);
  });
});
