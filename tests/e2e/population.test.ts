// Populations in the built app: Members = 4 trains four seeds on the CPU and draws their median with a
// band on the series and error charts, one member shown alone on request; on WebGPU the members'
// forecasts are computed in a worker of their own (memberForecastWorker.ts) (the page's longest task at
// K = 256 is a measurement, not a test: docs/PERFORMANCE.md); Members = 256 on the CPU trains (once
// refused: a WebAssembly memory a member, more than Chromium gives a page); and the Search view
// with a tiny grid fills its table and heatmap, marks the chosen configuration with why, and opens a
// configuration in the Train view. Screenshots go to test-results/.

import { describe, expect, it } from 'vitest';
import { chartCounts, pickBackend, screenshot, setField, useApp, waitForPhase, watched, watchPage } from './harness.js';

const open = useApp();

describe('populations in the app', () => {
  it('trains Members = 4 with a band, shows one member alone, ', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await setField(page, 'members', '4');
    await setField(page, 'epochs', '30');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 120_000)).toBe('finished');
    const series = await chartCounts(page, 'series-chart');
    // The blog's task: 40 one-step predictions, the forecast from the first window, 24 steps past the end.
    expect(series['prediction (CPU)']).toBe(40);
    expect(series['10% one step (CPU)']).toBe(40);
    expect(series['90% one step (CPU)']).toBe(40);
    expect(series['90% forecast (CPU)']).toBeGreaterThanOrEqual(40 + 24);
    const errors = await chartCounts(page, 'error-chart');
    expect(errors['error (CPU)']).toBe(30);
    expect(errors['least member error (CPU)']).toBe(30);
    expect(errors['greatest member error (CPU)']).toBe(30);
    expect(await page.isVisible('#member-choice')).toBe(true);
    expect(await page.$$eval('#member-shown option', (o) => o.map((x) => x.textContent))).toEqual([
      'all 4 members: median and band',
      'member 0 (seed 0)',
      'member 1 (seed 1)',
      'member 2 (seed 2)',
      'member 3 (seed 3)',
    ]);
    await screenshot(page, 'screenshot-members.png', { at: '#results' });
    await page.selectOption('#member-shown', '2');
    await page.waitForFunction(() =>
      (document.querySelector('#series-chart')?.getAttribute('data-counts') ?? '').includes('member 2'),
    );
    const alone = await chartCounts(page, 'series-chart');
    expect(alone['prediction (CPU, member 2 (seed 2))']).toBe(40);
    expect(Object.keys(alone).some((k) => k.startsWith('10%'))).toBe(false);

    expect(problems).toEqual([]);
  }, 180_000);

  it('trains Members = 256 on the CPU to its first reports (a thread’s members share one WebAssembly memory)', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await setField(page, 'members', '256');
    await setField(page, 'epochs', '2');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 150_000)).toBe('finished');
    const errors = await chartCounts(page, 'error-chart');
    expect(errors['error (CPU)']).toBe(2);
    expect(errors['greatest member error (CPU)']).toBe(2);
    expect(await page.$$eval('#member-shown option', (o) => o.length)).toBe(257);
    expect(problems).toEqual([]);
  }, 200_000);

  it("computes the members' forecasts in a worker of their own on WebGPU and draws their band", async () => {
    const { page, problems } = await open();
    await watchPage(page);
    await pickBackend(page, 'webgpu');
    await setField(page, 'members', '4');
    await setField(page, 'epochs', '10');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 150_000)).toBe('finished');
    const series = await chartCounts(page, 'series-chart');
    expect(series['prediction (WebGPU)']).toBe(40);
    expect(series['90% forecast (WebGPU)']).toBeGreaterThanOrEqual(40 + 24);
    expect((await watched(page)).workerNames).toContain('member-forecasts');
    expect(problems).toEqual([]);
  }, 180_000);

  it('searches a tiny grid, marks the chosen configuration and opens one in Train', async () => {
    const { page, problems } = await open();
    await setField(page, 'epochs', '20');
    await page.click('#tab-search');
    expect(await page.isVisible('#search-view')).toBe(true);
    await page.fill('#search-lr', '0.01, 0.1');
    await page.fill('#search-hidden', '4, 8');
    await page.fill('#search-window', '');
    await page.fill('#search-seeds', '2');
    const started = Date.now();
    await page.click('#search-start');
    await page.waitForFunction(() => /^Done/.test(document.querySelector('#search-status')?.textContent ?? ''), null, {
      timeout: 120_000,
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(`search of 4 configurations × 2 seeds, 20 epochs: ${seconds.toFixed(1)} s`);
    expect(await page.$$eval('#search-table tbody tr', (trs) => trs.length)).toBe(4);
    expect(await page.$$eval('#search-heatmap td button', (b) => b.length)).toBe(4);
    expect(await page.$$eval('#search-table tbody tr.chosen', (trs) => trs.length)).toBe(1);
    expect(await page.textContent('#search-chosen')).toMatch(
      /^Chosen: lr .*the lowest mean validation RMSE.*over 2 seeds.*the test part was not used to choose/,
    );
    await screenshot(page, 'screenshot-search.png');
    // The second configuration (lr 0.1, hidden 4) opens in the Train view with its seeds as Members.
    await page.click('#search-table tbody tr:nth-child(2) button');
    expect(await page.isVisible('#train-view')).toBe(true);
    expect(await page.inputValue('#field-lr')).toBe('0.1');
    expect(await page.inputValue('#field-hidden')).toBe('4');
    expect(await page.inputValue('#field-members')).toBe('2');
    expect(await page.inputValue('#field-validation')).toBe('0.1');
    expect(problems).toEqual([]);
  }, 240_000);
});
