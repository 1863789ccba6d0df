// The forecasting parts of the app in headless chromium, on the bundled CO2 series with a small
// model and few epochs: the Backtest view trains its folds in a worker and fills its fold × step
// table, its charts and its sentence; a Train run's forecast is scored beside the benchmarks and
// banded at the Levels field's levels, with the bands' coverage on the held-out part. Screenshots go to test-results/ (docs/ with UPDATE_SCREENSHOTS).

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers.js';
import { artifactsDir, chartCounts, downloadOf, screenshot, useApp, waitForPhase } from './harness.js';

const open = useApp();
const CO2 = '?source=bundled&dataset=co2&window=12&hidden=8&epochs=3&batch=32&backend=cpu';

describe('forecasting in the app', () => {
  it('backtests CO2 over 3 folds in a worker: every fold in the table, the charts and the sentence', async () => {
    const { page, problems } = await open({ suffix: `${CO2}#backtest` });
    expect(await page.isVisible('#backtest-view')).toBe(true);
    expect(await page.textContent('#backtest-base')).toMatch(/co2, window 12, hidden \[8\], 3 epochs/);
    await page.fill('#backtest-folds', '0');
    await page.click('#backtest-run');
    expect(await page.textContent('#backtest-folds-error')).toMatch(/whole number from 1/);
    await page.fill('#backtest-folds', '3');
    await page.fill('#backtest-horizon', '12');
    // Stop ends the worker at once and keeps nothing.
    await page.click('#backtest-run');
    expect(await page.getAttribute('body', 'data-backtest-phase')).toBe('running');
    await page.click('#backtest-stop');
    await page.waitForFunction(() => document.body.dataset.backtestPhase === 'idle');
    expect(await page.textContent('#backtest-status')).toBe('Stopped: nothing was kept of the unfinished backtest.');
    await page.click('#backtest-run');
    await page.waitForFunction(() => document.body.dataset.backtestPhase !== 'running', null, { timeout: 120_000 });
    expect(await page.getAttribute('body', 'data-backtest-phase')).toBe('done');
    expect(await page.textContent('#backtest-status')).toMatch(/^Done in [\d.]+ s: 3 folds of 12 steps, 12 rows apart/);
    const folds = await page.$$eval('#backtest-folds tr', (trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent)),
    );
    expect(folds).toHaveLength(3);
    for (const row of folds) {
      // fold, origin, rows, epoch, h=1..12, all steps, Naive2, vs Naive2
      expect(row).toHaveLength(4 + 12 + 3);
      expect(row[1]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Number(row[4 + 12])).toBeGreaterThan(0);
      expect(['won', 'lost']).toContain(row[18]);
    }
    expect(await page.$$eval('#backtest-pooled tr', (trs) => trs.length)).toBe(7);
    const sentence = (await page.textContent('#backtest-sentence')) ?? '';
    expect(sentence).toMatch(
      /^Over 3 folds, 12-step MASE [\d.]+ against naive [\d.]+, Naive2 [\d.]+ and Theta [\d.]+: /,
    );
    expect(await page.$$eval('#backtest-intervals li', (lis) => lis.map((li) => li.textContent))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^80% conformal interval: /)]),
    );
    const series = await chartCounts(page, 'backtest-series-chart');
    expect([series['fold 1'], series['fold 2'], series['fold 3']]).toEqual([12, 12, 12]);
    const errors = await chartCounts(page, 'backtest-error-chart');
    expect(errors.model).toBe(12);
    expect(errors.Theta).toBe(12);
    await page.selectOption('#backtest-metric', 'rmse');
    expect(await page.textContent('#backtest-error-summary')).toMatch(/^RMSE per step ahead/);
    console.log(`backtest in the app: ${await page.getAttribute('body', 'data-backtest-seconds')} s`);
    await screenshot(page, 'backtest.png');
    await screenshot(page, 'backtest-table.png', { at: '#backtest-error-title' });
    if (process.env.UPDATE_SCREENSHOTS)
      copyFileSync(join(artifactsDir, 'backtest.png'), join(repoRoot, 'docs', 'screenshot-backtest.png'));
    expect(problems).toEqual([]);
  }, 180_000);

  it('scores a finished run’s drawn forecast, draws its 80% and 95% bands and says how often they held', async () => {
    const { page, problems } = await open({ suffix: CO2 });
    await page.click('#start');
    expect(await waitForPhase(page, ['finished'], 120_000)).toBe('finished');
    await page.waitForFunction(() => document.body.dataset.forecastCheck === 'done', null, { timeout: 60_000 });
    const sentence = (await page.textContent('#forecast-sentence')) ?? '';
    expect(sentence).toMatch(
      /^The forecast drawn over the held-out part, scored on its \d+ steps: MASE [\d.]+ against /,
    );
    expect(sentence).toMatch(/The model is (better than|worse than|as good as) the strongest benchmark, /);
    const coverage = await page.$$eval('#forecast-intervals li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(coverage[0]).toMatch(/^80% conformal interval: [\d.]+% of \d+ .*held-out values inside \(80 ± [\d.]+ /);
    expect(coverage[1]).toMatch(/^95% conformal interval: /);
    console.log(`coverage in the app: ${coverage.join(' | ')}`);
    console.log(`forecast check: ${await page.getAttribute('body', 'data-forecast-check-ms')} ms`);
    expect(await page.$$eval('#forecast-table tbody tr', (trs) => trs.length)).toBe(7);
    const counts = await chartCounts(page, 'series-chart');
    expect(counts['80% band lower']).toBeGreaterThan(12);
    expect(counts['95% band upper']).toBe(counts['80% band lower']);
    await screenshot(page, 'forecast.png', { at: '#series-chart' });
    const csv = await downloadOf(page, '#download-series');
    expect(csv.text).toMatch(/\n"past the end, lower 80%",[^,]+,\d+,\d+,[\d.]+,\d{4}-\d{2}-\d{2},CO2,[\d.]+\n/);
    // No levels: no bands.
    await page.fill('#forecast-levels', '');
    await page.dispatchEvent('#forecast-levels', 'change');
    await page.waitForFunction(
      () => !document.querySelector('#series-chart')?.getAttribute('data-counts')?.includes('band'),
    );
    await page.fill('#forecast-levels', '120');
    await page.dispatchEvent('#forecast-levels', 'change');
    expect(await page.textContent('#forecast-levels-error')).toMatch(/percentages above 1 and below 100/);
    expect(problems).toEqual([]);
  }, 180_000);
});
