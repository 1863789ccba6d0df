// The Train view as a workspace, in headless chromium: after Start the summary sentence and the
// series chart come into view (1280×800 and 420×900, the README's screenshots), with the settings
// folded away; a keyboard-only run with the focus where the next action is and a focus ring unlike
// the selected state; axe-core on the Train, Benchmark and data views in both schemes; runs kept
// across a reload, ten overlaid without a stall, one reopened and its model downloaded; and `auto`
// reaching its first training step soon after Start on every bundled source.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers.js';
import { artifactsDir, pickBackend, setField, useApp, waitForPhase } from './harness.js';

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
