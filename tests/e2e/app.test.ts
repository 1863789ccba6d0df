// The built app in headless chromium: training the seed's defaults on WebGPU (SwiftShader here), on
// the CPU and both side by side; the controls; invalid settings; and the fallback when the browser
// has no WebGPU. Screenshots go to test-results/ as artifacts.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppPage,
  type AppServer,
  artifactsDir,
  chartCounts,
  openApp,
  pickBackend,
  setField,
  startApp,
  statsRows,
  waitForPhase,
} from './harness.js';

// The seed's task: 50 points, window 10 → 40 samples; 101 epochs.
const POINTS = 50;
const SAMPLES = 40;
const EPOCHS = 101;
// SwiftShader runs the seed's 101 epochs in 15–30 s on two busy cores; allow for a slower day.
const GPU_RUN_MS = 240_000;
const GPU_TEST_MS = GPU_RUN_MS + 30_000;

let app: AppServer;
const pages: AppPage[] = [];

beforeAll(async () => {
  app = await startApp();
}, 120_000);

afterAll(async () => {
  for (const { context } of pages) await context.close();
  await app?.close();
});

async function open(options: Parameters<typeof openApp>[1] = {}): Promise<AppPage> {
  const opened = await openApp(app, options);
  pages.push(opened);
  return opened;
}

/** The error fell the way the seed's training makes it fall (below 0.6 and a quarter of epoch 1's). */
function expectErrorFell(row: { firstError: number; lastError: number; epoch: number }, epochs: number) {
  expect(row.epoch).toBe(epochs);
  expect(Number.isFinite(row.firstError) && Number.isFinite(row.lastError)).toBe(true);
  expect(row.lastError).toBeLessThan(0.25 * row.firstError);
  expect(row.lastError).toBeLessThan(0.6);
}

async function expectChartsHold(page: AppPage['page'], backends: ('CPU' | 'WebGPU')[]) {
  const series = await chartCounts(page, 'series-chart');
  const errors = await chartCounts(page, 'error-chart');
  const timing = await chartCounts(page, 'timing-chart');
  expect(series.data).toBe(POINTS);
  for (const b of backends) {
    expect(series[`prediction (${b})`]).toBe(SAMPLES);
    expect(series[`forecast (${b})`]).toBe(SAMPLES);
    expect(errors[`error (${b})`]).toBe(EPOCHS);
    // One timing point per report: epochs 10, 20, ..., 100 and 101.
    expect(timing[`ms/epoch (${b})`]).toBe(11);
    expect(timing[`steps/s (${b})`]).toBe(11);
  }
}

async function expectWebGpuAdapter(page: AppPage['page']) {
  // No adapter is a failure here, not a reason to skip: the page must have found one.
  const note = await page.textContent('#backend-note');
  expect(note, 'the browser offered no WebGPU adapter').toMatch(/^WebGPU adapter: /);
  expect(await page.isEnabled('input[name="backend"][value="webgpu"]')).toBe(true);
  expect(await page.locator('[data-notice="webgpu"]').count()).toBe(0);
}

describe('the app in a browser', () => {
  it('trains the seed defaults on the CPU in a worker, and refuses bad settings without losing the run', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');

    const rows = await statsRows(page);
    expect(Object.keys(rows)).toEqual(['cpu']);
    expectErrorFell(rows.cpu, EPOCHS);
    await expectChartsHold(page, ['CPU']);
    expect(await page.textContent('.lane[data-backend="cpu"] .lane-meta')).toMatch(
      /^epoch 101\/101 · [\d,.]+ steps\/s/,
    );

    // An invalid setting is refused beside its field with what is valid; the finished run stays.
    await setField(page, 'window', '0');
    await setField(page, 'hidden', '30, x');
    await page.click('#start');
    expect(await page.textContent('#field-window-error')).toBe('expected a whole number from 1 to 4096, got 0');
    expect(await page.textContent('#field-hidden-error')).toMatch(/comma-separated whole numbers from 1 to 4096/);
    expect(await page.getAttribute('#field-window', 'aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-window');
    expect(await page.getAttribute('body', 'data-phase')).toBe('finished');
    expect((await statsRows(page)).cpu.epoch).toBe(EPOCHS);
    expect((await chartCounts(page, 'error-chart'))['error (CPU)']).toBe(EPOCHS);
    await page.screenshot({ path: join(artifactsDir, 'app-cpu-invalid-settings.png'), fullPage: true });

    await setField(page, 'window', '10');
    await page.locator('#field-window').blur();
    expect(await page.textContent('#field-window-error')).toBe('');
    expect(problems).toEqual([]);
  });

  it('starts from the keyboard, pauses, resumes, stops and resets', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await setField(page, 'epochs', '200000');
    await page.focus('#field-epochs');
    await page.keyboard.press('Enter');
    await waitForPhase(page, ['running'], 10_000);
    await page.waitForFunction(
      () => Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch')) >= 30,
    );

    await page.focus('#pause');
    await page.keyboard.press('Enter');
    expect(await waitForPhase(page, ['paused'], 10_000)).toBe('paused');
    expect(await page.textContent('#pause')).toBe('Resume');
    const pausedAt = (await statsRows(page)).cpu.epoch;
    await page.waitForTimeout(400);
    expect((await statsRows(page)).cpu.epoch).toBe(pausedAt);

    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (at) => Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch')) > at,
      pausedAt,
    );
    await page.click('#stop');
    expect(await waitForPhase(page, ['stopped'], 10_000)).toBe('stopped');
    const stopped = await statsRows(page);
    expect(stopped.cpu.status).toBe('stopped');
    expect(stopped.cpu.epoch).toBeGreaterThan(pausedAt);
    expect(stopped.cpu.lastError).toBeLessThan(stopped.cpu.firstError);
    await page.waitForTimeout(300);
    expect((await statsRows(page)).cpu.epoch).toBe(stopped.cpu.epoch);
    expect((await chartCounts(page, 'error-chart'))['error (CPU)']).toBeGreaterThan(pausedAt);

    await page.click('#reset');
    expect(await waitForPhase(page, ['idle'], 5_000)).toBe('idle');
    expect(await page.$$('#stats-body tr')).toHaveLength(0);
    expect(await chartCounts(page, 'error-chart')).toEqual({});
    expect((await chartCounts(page, 'series-chart')).data).toBe(POINTS);
    expect(await page.inputValue('#field-epochs')).toBe('200000');
    expect(problems).toEqual([]);
  });

  it(
    'trains the seed defaults on WebGPU',
    async () => {
      const { page, problems } = await open();
      await expectWebGpuAdapter(page);
      await pickBackend(page, 'webgpu');
      await page.click('#start');
      expect(await waitForPhase(page, ['finished', 'stopped'], GPU_RUN_MS)).toBe('finished');

      const rows = await statsRows(page);
      expect(Object.keys(rows)).toEqual(['webgpu']);
      expectErrorFell(rows.webgpu, EPOCHS);
      await expectChartsHold(page, ['WebGPU']);
      expect(await page.textContent('#adapter')).toMatch(/^WebGPU adapter: .+\((real GPU|software, .+)\)\.$/);
      await page.screenshot({ path: join(artifactsDir, 'app-webgpu.png'), fullPage: true });
      expect(problems).toEqual([]);
    },
    GPU_TEST_MS,
  );

  it(
    'races WebGPU and the CPU side by side on the same seed',
    async () => {
      const { page, problems } = await open();
      await expectWebGpuAdapter(page);
      await pickBackend(page, 'both');
      await page.click('#start');
      expect(await waitForPhase(page, ['finished', 'stopped'], GPU_RUN_MS)).toBe('finished');

      // Screenshots first: they are the artifact to look at when an assertion below fails.
      await page.screenshot({ path: join(artifactsDir, 'app-race-1280x800.png') });
      await page.screenshot({ path: join(artifactsDir, 'app-race-1280-full.png'), fullPage: true });
      await page.setViewportSize({ width: 420, height: 900 });
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
        0,
      );
      await page.screenshot({ path: join(artifactsDir, 'app-race-420-full.png'), fullPage: true });

      const rows = await statsRows(page);
      expect(Object.keys(rows).sort()).toEqual(['cpu', 'webgpu']);
      expectErrorFell(rows.webgpu, EPOCHS);
      expectErrorFell(rows.cpu, EPOCHS);
      await expectChartsHold(page, ['WebGPU', 'CPU']);
      expect(rows.webgpu.stepsPerSecond).toBeGreaterThan(0);
      expect(rows.cpu.stepsPerSecond).toBeGreaterThan(0);
      const ratio = Number(await page.getAttribute('#race', 'data-ratio'));
      expect(ratio).toBeCloseTo(rows.webgpu.stepsPerSecond / rows.cpu.stepsPerSecond, 6);
      expect(await page.textContent('#race')).toMatch(/^WebGPU ran (at )?[\d.,]+× the CPU's steps per second/);

      // Same seed, so the same data, initial weights and minibatches: the backends' errors agree up to
      // float32 rounding (the WebGPU fixture tests hold gradients to 1e-4 of the CPU's).
      const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
      expect(relative(rows.webgpu.firstError, rows.cpu.firstError), 'epoch 1 error, WebGPU vs CPU').toBeLessThan(1e-3);
      expect(relative(rows.webgpu.lastError, rows.cpu.lastError), 'last error, WebGPU vs CPU').toBeLessThan(0.05);
      expect(problems).toEqual([]);
    },
    GPU_TEST_MS,
  );

  it(
    'says so in plain words when the GPU device is lost, and the CPU carries on',
    async () => {
      const { page, problems } = await open({ keepGpuDevice: true });
      await expectWebGpuAdapter(page);
      await pickBackend(page, 'webgpu');
      await setField(page, 'epochs', '100000');
      await page.click('#start');
      await page.waitForFunction(
        () => Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch')) >= 10,
        null,
        {
          timeout: 60_000,
        },
      );
      await page.evaluate(() => (window as unknown as { gpuDevice: GPUDevice }).gpuDevice.destroy());

      const notice = page.locator('[data-notice="webgpu"]');
      await notice.waitFor({ state: 'visible' });
      expect(await notice.textContent()).toMatch(
        /^WebGPU stopped working \(.*lost.*\)\. Training runs on the CPU backend instead/,
      );
      expect(await waitForPhase(page, ['stopped'], 10_000)).toBe('stopped');
      expect(await page.textContent('.lane[data-backend="webgpu"] .lane-meta')).toMatch(/the GPU device was lost/);
      expect(await page.isChecked('input[name="backend"][value="cpu"]')).toBe(true);
      expect(await page.isDisabled('input[name="backend"][value="webgpu"]')).toBe(true);
      // What WebGPU trained before the loss stays on the charts until the next run.
      expect((await chartCounts(page, 'error-chart'))['error (WebGPU)']).toBeGreaterThanOrEqual(10);

      await setField(page, 'epochs', '30');
      await page.click('#start');
      expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');
      const rows = await statsRows(page);
      expect(Object.keys(rows)).toEqual(['cpu']);
      expect(rows.cpu.lastError).toBeLessThan(0.5 * rows.cpu.firstError);
      await page.screenshot({ path: join(artifactsDir, 'app-device-lost.png'), fullPage: true });
      expect(problems).toEqual([]);
    },
    GPU_TEST_MS,
  );

  it('falls back to the CPU with a notice when the browser has no WebGPU', async () => {
    const { page, problems } = await open({ withoutWebGpu: true, colorScheme: 'dark' });
    const notice = page.locator('[data-notice="webgpu"]');
    await notice.waitFor({ state: 'visible' });
    expect(await notice.textContent()).toMatch(/does not offer WebGPU \(navigator\.gpu is missing\).*CPU backend/);
    expect(await page.isDisabled('input[name="backend"][value="webgpu"]')).toBe(true);
    expect(await page.isDisabled('input[name="backend"][value="both"]')).toBe(true);
    expect(await page.isChecked('input[name="backend"][value="cpu"]')).toBe(true);

    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');
    const rows = await statsRows(page);
    expect(Object.keys(rows)).toEqual(['cpu']);
    expectErrorFell(rows.cpu, EPOCHS);
    await expectChartsHold(page, ['CPU']);
    expect(await page.textContent('#adapter')).toMatch(/navigator\.gpu is missing/);
    await page.screenshot({ path: join(artifactsDir, 'app-no-webgpu-dark.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
