// The Inside view in the built app (issue 29): opened while the blog's sine trains, it draws the gates,
// cell and output of the window under the pointer, the saturation scatter and the connectivity with
// its sentence, at every report; hovering the series chart probes another window; Pause still
// answers; no console errors. Then CO2 (bundled). Screenshots of both go to test-results/ (the README's
// docs/screenshot-inside-*.png are copies).

import { describe, expect, it } from 'vitest';
import { type AppPage, screenshot, useApp, waitForPhase } from './harness.js';

const open = useApp();

type Page = AppPage['page'];

/** What the Inside view drew: its window's row, and the values and points on each canvas. */
async function drawn(page: Page) {
  return page.evaluate(() => {
    const body = document.querySelector<HTMLElement>('#inside-body')!;
    const counts = (selector: string, key: string) =>
      [...document.querySelectorAll<HTMLElement>(selector)].map((c) => Number(c.dataset[key]));
    return {
      row: Number(body.dataset.row),
      epoch: Number(body.dataset.epoch),
      maps: counts('#inside-maps canvas.inside-map', 'values'),
      scatters: counts('#inside-scatter canvas', 'points'),
      lags: Number(document.querySelector<HTMLElement>('#inside-connectivity')!.dataset.lags),
      sentence: document.querySelector('#inside-sentence')!.textContent ?? '',
      status: document.querySelector('#inside-status')!.textContent ?? '',
    };
  });
}

/** Moves the pointer over the series chart at `fraction` of its plot's width. */
async function hoverSeries(page: Page, fraction: number): Promise<void> {
  const box = (await page.locator('#series-chart .u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
}

describe('the Inside view', () => {
  it('draws the blog sine’s gates, saturation and connectivity live, and probes the window under the pointer', async () => {
    const { page, problems } = await open({ height: 1500, suffix: '?backend=cpu&epochs=4000' });
    await page.click('#inside-toggle');
    expect(await page.getAttribute('#inside-toggle', 'aria-expanded')).toBe('true');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#inside-body')?.dataset.row !== undefined);
    const first = await drawn(page);
    // The blog's window of 10 and 30 hidden units: 300 values a picture, 30 dots a gate.
    expect(first.maps).toEqual([300, 300, 300, 300, 300, 300]);
    expect(first.scatters).toEqual([30, 30, 30, 30]);
    expect(first.lags).toBe(10);
    expect(first.sentence).toMatch(/^The model relies mostly on /);
    // Without a pointer on the chart, the last window: the one that predicts the last row.
    expect(first.row).toBe(49);
    // Reports go on arriving with the view open.
    await page.waitForFunction(
      (epoch) => Number(document.querySelector<HTMLElement>('#inside-body')!.dataset.epoch) > epoch,
      first.epoch,
    );
    await hoverSeries(page, 0.3);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#inside-body')!.dataset.row) < 30);
    const hovered = await drawn(page);
    expect(hovered.row).toBeGreaterThanOrEqual(10);
    expect(hovered.status).toContain(`x `);
    // The series chart shades the window drawn: the 10 rows it reads and the row it predicts.
    await page.waitForFunction(
      (row) => document.querySelector<HTMLElement>('#series-chart')!.dataset.band === `${row - 10}-${row}`,
      (await drawn(page)).row,
    );
    // The page still answers: Pause takes effect at the next report.
    await page.click('#pause');
    await waitForPhase(page, ['paused'], 30_000);
    await screenshot(page, 'app-inside-sine.png', { at: '.chart-panel:has(#series-chart)' });
    await page.click('#stop');
    await waitForPhase(page, ['stopped'], 30_000);
    // After the run the window under the pointer is probed on the page.
    await hoverSeries(page, 0.7);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#inside-body')!.dataset.row) > 30);
    expect((await drawn(page)).maps).toEqual([300, 300, 300, 300, 300, 300]);
    expect(problems).toEqual([]);
  }, 180_000);

  it('reads CO2: a window of two years, the held-out windows summarised', async () => {
    const { page, problems } = await open({
      height: 1500,
      suffix: '?source=bundled&dataset=co2&backend=cpu&epochs=40',
    });
    await page.click('#inside-toggle');
    await page.click('#start');
    await waitForPhase(page, ['finished'], 150_000);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#inside-body')?.dataset.row !== undefined);
    await hoverSeries(page, 0.85);
    const co2 = await drawn(page);
    expect(co2.lags).toBe(24);
    expect(co2.maps.every((n) => n === 24 * 30)).toBe(true);
    expect(co2.status).toMatch(/held-out windows/);
    expect(co2.sentence).toMatch(/AR baseline/);
    await screenshot(page, 'app-inside-co2.png', { at: '.chart-panel:has(#series-chart)' });
    expect(problems).toEqual([]);
  }, 200_000);
});
