// End-to-end harness: builds the app with Vite into a temporary folder, serves the build with
// `vite preview` on localhost (a secure context, as WebGPU needs), and drives Debian's chromium
// headless through playwright-core, with WebGPU on SwiftShader when no GPU is present
// (../shared/WEBGPU-TESTING.md). Pages record CSP violations and uncaught errors so every test can
// assert there were none.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
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

/** Builds the app, serves it, and starts the browser. */
export async function startApp(): Promise<AppServer> {
  const outDir = mkdtempSync(join(tmpdir(), 'webgpu-lstm-e2e-'));
  await build({ root: repoRoot, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await preview({
      root: repoRoot,
      logLevel: 'warn',
      build: { outDir },
      preview: { port: 0, host: 'localhost' },
    });
    const url = server.resolvedUrls?.local[0];
    if (url === undefined) throw new Error('vite preview did not report a local URL');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    await server?.close();
    rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
  mkdirSync(artifactsDir, { recursive: true });
  const openServer = server;
  const openBrowser = browser;
  return {
    url: openServer.resolvedUrls!.local[0],
    browser: openBrowser,
    async close() {
      await openBrowser.close();
      await openServer.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

export interface AppPage {
  page: Page;
  context: BrowserContext;
  /** CSP violations, uncaught errors and console errors seen so far. */
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
  } = {},
): Promise<AppPage> {
  const context = await app.browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
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
  await page.goto(app.url);
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

export async function setField(page: Page, name: string, value: string): Promise<void> {
  await page.fill(`#field-${name}`, value);
}

export async function pickBackend(page: Page, backend: 'webgpu' | 'cpu' | 'both'): Promise<void> {
  await page.check(`input[name="backend"][value="${backend}"]`);
}
