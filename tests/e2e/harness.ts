// End-to-end harness: builds the app with Vite into a temporary folder, serves the build with
// `vite preview` on localhost (a secure context, as WebGPU needs), and drives Debian's chromium
// headless through playwright-core, with WebGPU on SwiftShader when no GPU is present. Pages record
// CSP violations and uncaught errors so every test can assert there were none.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Download, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, inject } from 'vitest';
import { repoRoot } from '../helpers.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];
export const artifactsDir = join(repoRoot, 'test-results');

export interface AppServer {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the app into a temporary folder and serves it with `vite preview`. */
export async function serveBuild(): Promise<{ url: string; close(): Promise<void> }> {
  const outDir = mkdtempSync(join(tmpdir(), 'webgpu-lstm-e2e-'));
  try {
    await build({
      root: repoRoot,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, minify: process.env.E2E_STACKS ? false : undefined },
    });
    const server: PreviewServer = await preview({
      root: repoRoot,
      logLevel: 'warn',
      build: { outDir },
      preview: { port: 0, host: 'localhost' },
    });
    const url = server.resolvedUrls?.local[0];
    if (url === undefined) {
      await server.close();
      throw new Error('vite preview did not report a local URL');
    }
    return {
      url,
      async close() {
        await server.close();
        rmSync(outDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The app and a browser: the e2e project's shared ones (global-setup.ts), connected to; or, where a
 * file runs outside that project, its own build, server and browser.
 */
export async function startApp(): Promise<AppServer> {
  mkdirSync(artifactsDir, { recursive: true });
  const shared = inject('e2eApp');
  if (shared !== undefined) {
    const browser = await chromium.connect(shared.wsEndpoint);
    return { url: shared.url, browser, close: () => browser.close() };
  }
  const served = await serveBuild();
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    await served.close();
    throw err;
  }
  return {
    url: served.url,
    browser,
    async close() {
      await browser.close();
      await served.close();
    },
  };
}

export interface AppPage {
  page: Page;
  context: BrowserContext;
  /** CSP violations, uncaught errors, console errors and dialogs (alert, confirm…) seen so far. */
  problems: string[];
}

export async function openApp(
  app: AppServer,
  options: {
    width?: number;
    height?: number;
    colorScheme?: 'light' | 'dark';
    /** Delete navigator.gpu before the app loads. */
    withoutWebGpu?: boolean;
    /** Keep the app's GPUDevice in window.gpuDevice, so a test can destroy it. */
    keepGpuDevice?: boolean;
    /** Appended to the app's address: a query string of settings, a #view. */
    suffix?: string;
  } = {},
): Promise<AppPage> {
  const context = await app.browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => {
    problems.push(`uncaught: ${err.message}`);
    if (process.env.E2E_STACKS) console.error(err.stack);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.exposeFunction('reportCspViolation', (text: string) => problems.push(`CSP: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { reportCspViolation(text: string): void }).reportCspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
    });
  });
  if (options.withoutWebGpu) {
    await page.addInitScript(() => {
      // What a browser without WebGPU looks like to the app.
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
  }
  if (options.keepGpuDevice) {
    await page.addInitScript(() => {
      const requestDevice = GPUAdapter.prototype.requestDevice;
      GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, ...args) {
        const device = await requestDevice.apply(this, args);
        (window as unknown as { gpuDevice: GPUDevice }).gpuDevice = device;
        return device;
      };
    });
  }
  await page.goto(`${app.url}${options.suffix ?? ''}`);
  await page.waitForFunction(() => document.body.dataset.phase === 'idle');
  return { page, context, problems };
}

export interface StatsRow {
  backend: string;
  status: string;
  epoch: number;
  firstError: number;
  lastError: number;
  stepsPerSecond: number;
  msPerEpoch: number;
}

/** The timing table's row for each backend of the run (exact values from its data attributes). */
export async function statsRows(page: Page): Promise<Record<string, StatsRow>> {
  // The current run's table: one row per backend (the Runs table below keeps every run).
  const rows = await page.$$eval('#stats-body tr', (trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset })));
  const result: Record<string, StatsRow> = {};
  for (const row of rows) {
    result[row.backend ?? '?'] = {
      backend: row.backend ?? '?',
      status: row.status ?? '?',
      epoch: Number(row.epoch),
      firstError: Number(row.firstError),
      lastError: Number(row.lastError),
      stepsPerSecond: Number(row.stepsPerSecond),
      msPerEpoch: Number(row.msPerEpoch),
    };
  }
  return result;
}

/** How many values each series of a chart holds (the page publishes them beside the canvas). */
export async function chartCounts(page: Page, chartId: string): Promise<Record<string, number>> {
  const text = await page.getAttribute(`#${chartId}`, 'data-counts');
  return JSON.parse(text ?? '{}') as Record<string, number>;
}

export async function waitForPhase(page: Page, phases: string[], timeoutMs: number): Promise<string> {
  await page.waitForFunction((wanted) => wanted.includes(document.body.dataset.phase ?? ''), phases, {
    timeout: timeoutMs,
  });
  return (await page.getAttribute('body', 'data-phase')) ?? '';
}

/** Types into a text field, or picks an option of a select (opening the settings where a run folded them). */
export async function setField(page: Page, name: string, value: string): Promise<void> {
  const selector = `#field-${name}`;
  if ((await page.getAttribute('#settings-toggle', 'aria-expanded')) === 'false') await page.click('#settings-toggle');
  if ((await page.locator(selector).evaluate((node) => node.tagName)) === 'SELECT') {
    await page.selectOption(selector, value);
  } else {
    await page.fill(selector, value);
  }
}

/** Workers and WebGPU backends the page holds now (it counts them as they start and end). */
export async function liveResources(page: Page): Promise<{ workers: number; gpuBackends: number }> {
  return page.evaluate(() => ({
    workers: Number(document.body.dataset.liveWorkers),
    gpuBackends: Number(document.body.dataset.liveGpuBackends),
  }));
}

/** A file for a file input: the name and the text. */
export function textFile(name: string, text: string, mimeType = 'text/csv') {
  return { name, mimeType, buffer: Buffer.from(text) };
}

/** Drops a file with this text on an element, as a person dragging it from their desktop would. */
export async function dropFile(page: Page, selector: string, name: string, text: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ([fileName, content]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([content], fileName, { type: 'text/csv' }));
      return transfer;
    },
    [name, text] as const,
  );
  await page.dispatchEvent(selector, 'dragenter', { dataTransfer });
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

/** The text of a download the click starts. */
export async function downloadOf(page: Page, selector: string): Promise<{ name: string; text: string }> {
  const { name, bytes } = await downloadBytesOf(page, selector);
  return { name, text: bytes.toString('utf8') };
}

/** The bytes of a download the click starts (a PNG, say). */
export async function downloadBytesOf(page: Page, selector: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return { name: download.suggestedFilename(), bytes: await downloadedBytes(download) };
}

/** A download's bytes, saved to a temporary file first: the shared browser is connected remotely, so a download has no local path. */
export async function downloadedBytes(download: Download): Promise<Buffer> {
  const folder = mkdtempSync(join(tmpdir(), 'webgpu-lstm-download-'));
  try {
    const path = join(folder, 'file');
    await download.saveAs(path);
    return readFileSync(path);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Picks the CSV source and a file through the file input, and waits until the page has read it (or refused it). */
export async function chooseCsv(page: Page, name: string, text: string): Promise<void> {
  await setField(page, 'source', 'csv');
  await page.setInputFiles('#csv-file', textFile(name, text));
  await page.waitForFunction(
    (file) =>
      (document.querySelector('#csv-status')?.textContent ?? '').startsWith(`${file}:`) ||
      (document.querySelector('#csv-error')?.textContent ?? '').startsWith(`${file} was not read`),
    name,
  );
}

/** A chart's axes as it last drew them: tick labels with their values, places and widths (charts.ts, data-axes). */
export interface DrawnAxis {
  label: string;
  side: 'bottom' | 'left' | 'right';
  size: number;
  ticks: { text: string; value: number; at: number; width: number }[];
}

export async function drawnAxes(page: Page, chartId: string): Promise<DrawnAxis[]> {
  return JSON.parse((await page.getAttribute(`#${chartId}`, 'data-axes')) ?? '[]') as DrawnAxis[];
}

/**
 * What is wrong with an axis' labels, or '' when nothing is: x labels that overlap their neighbours,
 * y labels wider than the axis leaves them (they would run into its title), "0" for a value that is not 0.
 */
export function axisProblems(axis: DrawnAxis): string {
  const problems: string[] = [];
  axis.ticks.forEach((tick, i) => {
    if (tick.text === '0' && tick.value !== 0) problems.push(`${tick.value} reads "0" (${axis.label})`);
    if (axis.side === 'bottom' && i > 0) {
      const previous = axis.ticks[i - 1];
      if (tick.at - previous.at < (tick.width + previous.width) / 2 + 2) {
        problems.push(`x labels ${JSON.stringify(previous.text)} and ${JSON.stringify(tick.text)} overlap`);
      }
    }
    if (axis.side !== 'bottom' && tick.width + 6 > axis.size) {
      problems.push(`${JSON.stringify(tick.text)} is wider than the ${axis.label} axis leaves it`);
    }
  });
  return problems.join('; ');
}

/**
 * A screenshot into test-results/: the window's view from the top of the page, or from `at` (a
 * selector scrolled to the top), or the whole page.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean; at?: string } = {}) {
  await page.evaluate((selector) => {
    const target = selector === undefined ? null : document.querySelector(selector);
    if (target) target.scrollIntoView({ block: 'start' });
    else window.scrollTo(0, 0);
  }, options.at);
  await page.screenshot({ path: join(artifactsDir, name), fullPage: options.fullPage ?? false });
}

/** No wider than the window: nothing scrolls sideways. */
export async function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

export async function pickBackend(page: Page, backend: 'webgpu' | 'cpu' | 'both'): Promise<void> {
  await page.check(`input[name="backend"][value="${backend}"]`);
}

/**
 * One built and served app per test file, started before its tests and closed after them with every
 * page it opened; returns the function that opens a page on it.
 */
export function useApp(): (options?: Parameters<typeof openApp>[1]) => Promise<AppPage> {
  let app: AppServer | undefined;
  const pages: AppPage[] = [];
  beforeAll(async () => {
    app = await startApp();
  }, 120_000);
  afterAll(async () => {
    for (const { context } of pages) await context.close();
    await app?.close();
  });
  return async (options = {}) => {
    if (app === undefined) throw new Error('useApp: the app is not started (call it at the top of a test file)');
    const opened = await openApp(app, options);
    pages.push(opened);
    return opened;
  };
}

/** Starts a 10 ms timer that notes how late it fires (the page's pauses), and notes every worker started. */
export async function watchPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { workerNames: string[]; stalls: number[]; ticker: number };
    w.workerNames = [];
    w.stalls = [];
    const Original = window.Worker;
    window.Worker = class extends Original {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        w.workerNames.push(options?.name ?? '');
      }
    };
    let last = performance.now();
    w.ticker = window.setInterval(() => {
      const now = performance.now();
      w.stalls.push(now - last);
      last = now;
    }, 10);
  });
}

/** The workers started and the page's pauses (ms) since watchPage or the last call (it starts the pauses afresh). */
export async function watched(page: Page): Promise<{ workerNames: string[]; stalls: number[] }> {
  return page.evaluate(() => {
    const w = window as unknown as { workerNames: string[]; stalls: number[] };
    const result = { workerNames: [...w.workerNames], stalls: [...w.stalls] };
    w.stalls = [];
    return result;
  });
}
