// The built app in headless chromium: training the blog's defaults with the default backend, auto
// (a race at the run's shape: the CPU on SwiftShader, with its reason, raced once), on WebGPU
// (SwiftShader here), on the CPU and both side by side; the controls, pressed in any order and again, leaving no worker and
// no GPU backend alive; invalid settings; a lost GPU device mid-run (the run goes on with the CPU from
// its last report and finishes); and the fallback when the browser has no WebGPU. Screenshots go to
// test-results/ as artifacts.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AppPage,
  artifactsDir,
  chartCounts,
  liveResources,
  pickBackend,
  setField,
  statsRows,
  useApp,
  waitForPhase,
} from './harness.js';

// The blog's task: 50 points, window 10 → 40 samples; 101 epochs.
const POINTS = 50;
const SAMPLES = 40;
const EPOCHS = 101;
// SwiftShader runs the blog's 101 epochs in 15–30 s on two busy cores; allow for a slower day.
const GPU_RUN_MS = 240_000;
const GPU_TEST_MS = GPU_RUN_MS + 30_000;

const open = useApp();

/** The error fell the way the blog's training makes it fall (below 0.6 and a quarter of epoch 1's). */
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
  expect(series['data (sine)']).toBe(POINTS);
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
  it('by default starts on the CPU at once, times WebGPU meanwhile, says plainly which is faster, and remembers it per shape', async () => {
    const { page, problems } = await open();
    await expectWebGpuAdapter(page);
    expect(await page.isChecked('input[name="backend"][value="auto"]')).toBe(true);
    // Every state auto's line goes through, from before the first Start.
    await page.evaluate(() => {
      const line = document.querySelector<HTMLElement>('#backend-auto')!;
      const states: string[] = [];
      (window as unknown as { autoStates: string[] }).autoStates = states;
      new MutationObserver(() => states.push(line.dataset.auto ?? '')).observe(line, {
        attributes: true,
        attributeFilter: ['data-auto'],
      });
    });
    const autoStates = () => page.evaluate(() => (window as unknown as { autoStates: string[] }).autoStates);
    expect(await page.isHidden('#backend-auto')).toBe(true);

    await page.click('#start');
    // No wait for a race: the run trains on the CPU from its first step while WebGPU is timed.
    await page.waitForSelector('.lane[data-first-step-ms]');
    expect(await page.getAttribute('.lane', 'data-backend')).toBe('cpu');
    await page.waitForSelector('#backend-auto[data-auto="cpu"], #backend-auto[data-auto="webgpu"]', {
      timeout: GPU_RUN_MS,
    });
    const reason = (await page.textContent('#backend-auto')) ?? '';
    // This machine has no GPU: the adapter is SwiftShader, on which the CPU wins at the blog's size.
    if ((await page.getAttribute('#adapter', 'data-software')) === 'true') {
      expect(reason).toMatch(
        /^auto: the CPU\. WebGPU here is a software emulation, about [\d,.]+× slower than the CPU at hidden 30, batch 8\.$/,
      );
      expect(await page.getAttribute('#backend-auto', 'data-auto')).toBe('cpu');
    }
    expect(await page.isVisible('#backend-auto')).toBe(true);
    expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');
    const rows = await statsRows(page);
    expectErrorFell(Object.values(rows)[0], EPOCHS);
    expect(await autoStates()).toEqual(['racing', (await page.getAttribute('#backend-auto', 'data-auto')) ?? '']);
    await page.screenshot({ path: join(artifactsDir, 'app-auto.png') });
    // The timing's WebGPU backend is gone with it.
    await page.waitForFunction(
      () => document.body.dataset.liveGpuBackends === '0' && document.body.dataset.liveWorkers === '0',
    );

    // The same shape and batch again: the remembered choice, no second timing.
    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');
    expect((await autoStates()).slice(2)).toEqual([(await autoStates())[1]]);
    expect(await page.textContent('#backend-auto')).toBe(reason);
    // Another batch is another timing.
    await setField(page, 'batch', '4');
    await page.click('#start');
    await page.waitForFunction(() => (window as unknown as { autoStates: string[] }).autoStates.length === 5, null, {
      timeout: GPU_RUN_MS,
    });
    expect((await autoStates())[3]).toBe('racing');
    expect(await page.textContent('#backend-auto')).toMatch(/at hidden 30, batch 4\.$/);
    expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');
    // Auto's line belongs to auto: another choice hides it.
    await pickBackend(page, 'cpu');
    expect(await page.isHidden('#backend-auto')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('trains the blog’s defaults on the CPU in a worker, and refuses bad settings without losing the run', async () => {
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

  it('starts from the keyboard, pauses, resumes, stops and resets, again and in any order, leaving nothing running', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await setField(page, 'epochs', '200000');
    await page.focus('#field-epochs');
    await page.keyboard.press('Enter');
    await waitForPhase(page, ['running'], 10_000);
    expect(await liveResources(page)).toEqual({ workers: 1, gpuBackends: 0 });
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
    // Pause and resume again at once, then stop while pausing: the stop wins and ends the worker.
    await page.click('#pause');
    await page.click('#pause');
    await page.click('#pause');
    await page.click('#stop');
    expect(await waitForPhase(page, ['stopped'], 10_000)).toBe('stopped');
    const stopped = await statsRows(page);
    expect(stopped.cpu.status).toBe('stopped');
    expect(stopped.cpu.epoch).toBeGreaterThan(pausedAt);
    expect(stopped.cpu.lastError).toBeLessThan(stopped.cpu.firstError);
    await page.waitForTimeout(300);
    expect((await statsRows(page)).cpu.epoch).toBe(stopped.cpu.epoch);
    expect((await chartCounts(page, 'error-chart'))['error (CPU)']).toBeGreaterThan(pausedAt);
    expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });

    await page.click('#reset');
    expect(await waitForPhase(page, ['idle'], 5_000)).toBe('idle');
    expect(await page.$$('#stats-body tr')).toHaveLength(0);
    expect(await chartCounts(page, 'error-chart')).toEqual({});
    expect((await chartCounts(page, 'series-chart'))['data (sine)']).toBe(POINTS);
    expect(await page.inputValue('#field-epochs')).toBe('200000');

    // Start, pause before the first report, stop while paused; start and stop at once; start and
    // reset mid-run: every time the worker ends with the run.
    for (const ending of ['stop-paused', 'stop-at-once', 'reset-running'] as const) {
      await page.click('#start');
      await waitForPhase(page, ['running'], 10_000);
      if (ending === 'stop-paused') {
        await page.click('#pause');
        await waitForPhase(page, ['paused'], 10_000);
      }
      if (ending === 'reset-running') {
        await page.waitForFunction(
          () => Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch')) >= 10,
        );
        await page.click('#reset');
        expect(await waitForPhase(page, ['idle'], 5_000)).toBe('idle');
      } else {
        await page.click('#stop');
        expect(await waitForPhase(page, ['stopped'], 5_000)).toBe('stopped');
      }
      expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });
    }
    expect(problems).toEqual([]);
  });

  it(
    'trains the blog’s defaults on WebGPU',
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
      expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });

      // Pause, stop and reset a WebGPU run: its backend is disposed every time.
      await setField(page, 'epochs', '100000');
      await page.click('#start');
      await page.waitForFunction(
        () => Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch')) >= 10,
      );
      expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 1 });
      await page.click('#pause');
      expect(await waitForPhase(page, ['paused'], 30_000)).toBe('paused');
      await page.click('#stop');
      expect(await waitForPhase(page, ['stopped'], 5_000)).toBe('stopped');
      await page.waitForFunction(() => document.body.dataset.liveGpuBackends === '0');
      await page.click('#start');
      await page.waitForFunction(() => document.body.dataset.liveGpuBackends === '1', null, { timeout: 30_000 });
      await page.click('#reset');
      expect(await waitForPhase(page, ['idle'], 5_000)).toBe('idle');
      await page.waitForFunction(() => document.body.dataset.liveGpuBackends === '0', null, { timeout: 30_000 });
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
      expect(relative(rows.webgpu.lastError, rows.cpu.lastError), 'last error, WebGPU vs CPU').toBeLessThan(0.02);
      expect(problems).toEqual([]);
    },
    GPU_TEST_MS,
  );

  it(
    'goes on with the CPU from the last report when the GPU device is lost mid-run, and finishes',
    async () => {
      const { page, problems } = await open({ keepGpuDevice: true });
      await expectWebGpuAdapter(page);
      await pickBackend(page, 'webgpu');
      const epochs = 400;
      await setField(page, 'epochs', String(epochs));
      await page.click('#start');
      await page.waitForFunction(
        () => Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch')) >= 20,
        null,
        { timeout: 60_000 },
      );
      expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 1 });
      const lastGpuReport = await page.evaluate(() => {
        (window as unknown as { gpuDevice: GPUDevice }).gpuDevice.destroy();
        return Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch'));
      });

      const lost = page.locator('[data-notice="webgpu"]');
      await lost.waitFor({ state: 'visible' });
      expect(await lost.textContent()).toMatch(/^WebGPU stopped working \(.*lost.*\)\. New runs use the CPU backend/);
      const switched = page.locator('[data-notice="switched-webgpu"]');
      await switched.waitFor({ state: 'visible' });
      const notice = (await switched.textContent()) ?? '';
      expect(notice).toMatch(
        /^The GPU device was lost \(.*\)\. The run goes on with the CPU backend from epoch (\d+), its last report, with the weights read back then; at most one report interval of training was lost\./,
      );
      // The CPU goes on from the last report the page had when the device went (or the one after it,
      // if that report was already on its way).
      const from = Number(/from epoch (\d+)/.exec(notice)?.[1]);
      expect(from).toBeGreaterThanOrEqual(lastGpuReport);
      expect(from).toBeLessThanOrEqual(lastGpuReport + 10);

      expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');
      const rows = await statsRows(page);
      expect(Object.keys(rows)).toEqual(['webgpu']);
      expect(rows.webgpu.epoch).toBe(epochs);
      expect(rows.webgpu.lastError).toBeLessThan(0.25 * rows.webgpu.firstError);
      expect(await page.getAttribute('#stats-body tr', 'data-running-on')).toBe('cpu');
      expect(await page.textContent('.lane[data-backend="webgpu"] .lane-meta')).toMatch(
        new RegExp(`^epoch ${epochs}/${epochs} .* on the CPU since epoch ${from}$`),
      );
      // Every epoch's error is on the chart once: the GPU's up to the switch, then the CPU's.
      expect((await chartCounts(page, 'error-chart'))['error (WebGPU → CPU)']).toBe(epochs);
      expect(await page.isChecked('input[name="backend"][value="cpu"]')).toBe(true);
      expect(await page.isDisabled('input[name="backend"][value="webgpu"]')).toBe(true);
      expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });
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
    // Auto stays the choice: without WebGPU it is the CPU, and says so when a run starts.
    expect(await page.isChecked('input[name="backend"][value="auto"]')).toBe(true);
    expect(await page.isEnabled('input[name="backend"][value="cpu"]')).toBe(true);

    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 60_000)).toBe('finished');
    expect(await page.textContent('#backend-auto')).toBe(
      'auto: cpu, the only backend here: this browser does not offer WebGPU (navigator.gpu is missing)',
    );
    const rows = await statsRows(page);
    expect(Object.keys(rows)).toEqual(['cpu']);
    expectErrorFell(rows.cpu, EPOCHS);
    await expectChartsHold(page, ['CPU']);
    expect(await page.textContent('#adapter')).toMatch(/navigator\.gpu is missing/);
    await page.screenshot({ path: join(artifactsDir, 'app-no-webgpu-dark.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
