// The headers the app is served with (vite.config.ts, for `npm run dev` and `npm run preview`; the
// same in public/_headers for static hosts): no framing, no sniffing, no referrer, and cross-origin
// isolation, under which the page must still train on the CPU (its worker) and on WebGPU.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESPONSE_HEADERS } from '../../vite.config.js';
import { repoRoot } from '../helpers.js';
import { pickBackend, setField, useApp, waitForPhase } from './harness.js';

const open = useApp();

describe('hosting headers', () => {
  it('public/_headers states exactly the headers the dev and preview servers send', () => {
    const lines = readFileSync(join(repoRoot, 'public', '_headers'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('/*');
    const stated = Object.fromEntries(
      lines.slice(1).map((line) =>
        line
          .trim()
          .split(/: (.*)/)
          .slice(0, 2),
      ),
    );
    expect(stated).toEqual(RESPONSE_HEADERS);
  });

  it('sends them with the page, its scripts and workers; the page is cross-origin isolated and trains', async () => {
    const { page, problems } = await open();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);

    await pickBackend(page, 'both');
    await setField(page, 'epochs', '20');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished', 'stopped'], 90_000)).toBe('finished');
    const statuses = await page.$$eval('#stats-body tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.status));
    expect(statuses).toEqual(['finished', 'finished']);

    // The document, its script and the CPU worker's script, each fetched again to read its headers.
    const script = await page.$eval('script[type="module"]', (node) => (node as HTMLScriptElement).src);
    const worker = requested.find((url) => /cpuWorker.*\.js$/.test(new URL(url).pathname));
    expect(worker).toBeDefined();
    for (const url of [page.url(), script, worker ?? '']) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      for (const [name, value] of Object.entries(RESPONSE_HEADERS)) {
        expect(response.headers.get(name), `${name} on ${url}`).toBe(value);
      }
    }
    expect(problems).toEqual([]);
  });

  it('cannot be framed by another page: the browser refuses it for its headers', async () => {
    const { page, context } = await open();
    const other = await context.newPage();
    const messages: string[] = [];
    other.on('console', (message) => messages.push(message.text()));
    // setContent waits for the load event, which waits for the frame: the app, or the error page
    // that stands in for a refused one. The app's document is the one whose body has a phase.
    await other.setContent(`<iframe id="app" src="${page.url()}"></iframe>`);
    const frame = await (await other.$('#app'))?.contentFrame();
    expect(frame).toBeTruthy();
    const phase = await frame?.evaluate(() => document.body?.dataset.phase ?? null).catch(() => null);
    expect(phase ?? null).toBeNull();
    // Refused for the reason the headers give (frame-ancestors 'none', or X-Frame-Options: DENY where
    // a browser reads only that), not for any other failure of the frame.
    const refusal =
      /violates the following Content Security Policy directive: "frame-ancestors 'none'"|'X-Frame-Options' to 'deny'/i;
    expect(
      messages.filter((text) => refusal.test(text)),
      messages.join('\n'),
    ).toHaveLength(1);
    await other.close();
  });
});
