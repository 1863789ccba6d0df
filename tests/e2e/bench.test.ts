// The Benchmark view in headless chromium: a tiny sweep on both backends (the CPU in its worker,
// WebGPU on SwiftShader here) shows both in the table and the chart, says the adapter is software
// emulation, and its JSON and CSV downloads hold the same results. Screenshots go to test-results/.

import { describe, expect, it } from 'vitest';
import { type BenchResult, resultsFromCsv } from '../../src/bench/bench.js';
import { downloadOf, liveResources, overflowsSideways, screenshot, useApp } from './harness.js';

const open = useApp();

describe('the benchmark view', () => {
  it('runs a tiny sweep on both backends, charts it, and exports JSON and CSV that agree', async () => {
    const opened = await open({ suffix: '#benchmark' });
    const { page, problems } = opened;
    expect(await page.isVisible('#bench-view')).toBe(true);
    expect(await page.isVisible('#train-view')).toBe(false);
    // The default sweep reaches hidden 1024 at batch 256 on the CPU: the page says it takes long.
    expect(await page.textContent('#bench-warning')).toMatch(/^The CPU part may take about .*hidden 1024 at batch 256/);
    await page.waitForFunction(
      () => !document.querySelector<HTMLInputElement>('input[value="webgpu"][name="bench-backend"]')?.disabled,
    );

    await page.fill('#bench-hidden', '8, 16');
    await page.fill('#bench-batch', '4');
    // 20 steps a repetition: a page's clock ticks in 0.1 ms, so fewer tiny steps could time as 0.
    await page.fill('#bench-steps', '20');
    await page.fill('#bench-repetitions', '2');
    expect(await page.textContent('#bench-warning')).toBe('');
    await page.click('#bench-run');
    await page.waitForFunction(() => document.body.dataset.benchPhase !== 'running', null, { timeout: 120_000 });
    expect(await page.getAttribute('body', 'data-bench-phase')).toBe('done');
    expect(await page.textContent('#bench-status')).toBe('Done: 4 cases measured.');

    const rows = await page.$$eval('#bench-body tr', (trs) =>
      trs.map((tr) => {
        const { backend, hidden, batch, stepsPerSecond } = (tr as HTMLElement).dataset;
        return { backend, hidden, batch, stepsPerSecond, skipped: tr.querySelector('.skipped')?.textContent };
      }),
    );
    expect(rows.map((r) => `${r.backend} ${r.hidden} ${r.batch}`)).toEqual([
      'cpu 8 4',
      'cpu 16 4',
      'webgpu 8 4',
      'webgpu 16 4',
    ]);
    for (const row of rows) {
      expect(row.skipped).toBe('');
      expect(Number(row.stepsPerSecond)).toBeGreaterThan(0);
    }
    expect(JSON.parse((await page.getAttribute('#bench-chart', 'data-counts')) ?? '{}')).toEqual({
      'CPU, batch 4': 2,
      'WebGPU, batch 4': 2,
    });
    expect(
      await page.$$eval('#bench-speedups tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-batch'))),
    ).toEqual(['4']);
    expect(await page.textContent('#bench-crossovers li')).toMatch(/^batch 4: /);
    // The speed-up's reading sits with its table; samples per second join steps per second.
    expect(await page.textContent('#bench-speedup-note')).toMatch(
      /^WebGPU’s steps per second over the CPU’s at the same size: above 1× WebGPU trains faster/,
    );
    const samples = await page.$$eval('#bench-body tr', (trs) => trs.map((tr) => tr.children[4].textContent));
    const steps = await page.$$eval('#bench-body tr', (trs) => trs.map((tr) => tr.children[3].textContent));
    for (const [i, text] of samples.entries()) {
      const perStep = Number((steps[i] ?? '').replace(/,/g, ''));
      expect(Math.abs(Number((text ?? '').replace(/,/g, '')) - 4 * perStep)).toBeLessThanOrEqual(
        Math.max(1, 0.01 * 4 * perStep),
      );
    }
    // The chart in words for its canvas, and per sample on request.
    expect(await page.textContent('#bench-summary')).toMatch(
      /^Training steps per second by hidden size \(log axes\)\. CPU, batch 4: /,
    );
    expect(await page.getAttribute('#bench-chart canvas', 'aria-describedby')).toBe('bench-summary');
    await page.selectOption('#bench-metric', 'samples');
    await page.waitForFunction(() =>
      (document.querySelector('#bench-summary')?.textContent ?? '').includes('samples/s'),
    );
    // A results table wider than its panel keeps its first column in view.
    expect(await page.$eval('.bench-table tbody th', (th) => getComputedStyle(th).position)).toBe('sticky');
    const adapterLine = (await page.textContent('#bench-adapter')) ?? '';
    const software = (await page.getAttribute('#bench-adapter', 'data-software')) === 'true';
    expect(adapterLine).toMatch(
      software ? /^WebGPU adapter: .+\. Software emulation/ : /^WebGPU adapter: .+ \(a real GPU\)\.$/,
    );
    expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });

    const json = await downloadOf(page, '#bench-json');
    const csv = await downloadOf(page, '#bench-csv');
    expect([json.name, csv.name]).toEqual(['webgpu-lstm-bench.json', 'webgpu-lstm-bench.csv']);
    const report = JSON.parse(json.text) as {
      method: string;
      adapter: { software: boolean } | null;
      options: unknown;
      results: BenchResult[];
    };
    expect(report.method).toMatch(/warm-up/);
    expect(report.adapter?.software).toBe(software);
    expect(report.options).toEqual({ steps: 20, repetitions: 2, budgetSeconds: 10 });
    expect(report.results).toHaveLength(4);
    expect(resultsFromCsv(csv.text)).toEqual(report.results);
    for (const r of report.results) {
      expect(r).toMatchObject({ window: 10, batch: 4, repetitions: 2, steps: 20, skipped: null });
      expect(Number.isFinite(r.stepsPerSecond) && r.stepsPerSecond > 0).toBe(true);
      expect(r.msPerStep).toBeCloseTo(1000 / r.stepsPerSecond, 9);
    }

    await screenshot(page, 'app-bench-1280x800.png');
    await screenshot(page, 'app-bench-1280-full.png', { fullPage: true });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForTimeout(300);
    expect(await overflowsSideways(page)).toBe(false);
    await screenshot(page, 'app-bench-420-full.png', { fullPage: true });
    expect(problems).toEqual([]);
  }, 180_000);
});
