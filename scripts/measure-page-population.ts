// The page's long tasks while a population trains in the built app (docs/PERFORMANCE.md, "The page
// with a population"): builds and serves the app as the e2e tests do, trains Members = K of the blog's
// task on WebGPU (SwiftShader here, on the page's own thread) for some epochs, and prints the page's
// long tasks (PerformanceObserver 'longtask'), each with the JavaScript functions a CPU profile
// (Chrome DevTools Protocol) sampled in it, so what holds the page is named.
//
//   node --import tsx --import ./scripts/register-raw.mjs scripts/measure-page-population.ts [K,K…] [epochs]
//
// (npm run measure:page-population -- 256,1 30). K defaults to 256 and 1 (the same page with one
// model, for what Start costs any run), epochs to 30 (reports at 10, 20 and 30). A measurement, not a
// test: on a loaded machine every task's wall time grows with the load.

import { chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, openApp, pickBackend, serveBuild, setField } from '../tests/e2e/harness.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
/** A long task: when it started (ms after Start) and how long it ran. */
interface LongTask {
  at: number;
  ms: number;
}

const members = (process.argv[2] ?? '256,1').split(',').map(Number);
const epochs = process.argv[3] ?? '30';

/** The functions sampled in [from, to) (profile microseconds), with their inclusive milliseconds, the heaviest first. */
function sampledIn(profile: Profile, from: number, to: number, count: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    if (t < from || t >= to) return;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const name = byId.get(node)?.callFrame.functionName || '(anonymous)';
      if (name === '(root)' || seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  });
  return [...inclusive]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
    .join(', ');
}

/** Trains K members to the end and returns the page's long tasks, the first report's time and a CPU profile. */
async function measure(page: Page, k: number): Promise<{ tasks: LongTask[]; firstReport: number; profile: Profile }> {
  await pickBackend(page, 'webgpu');
  await setField(page, 'members', String(k));
  await setField(page, 'epochs', epochs);
  await page.evaluate(() => {
    const w = window as unknown as { longTasks: number[][] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: false });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  const start = await page.evaluate(() => performance.now());
  await page.click('#start');
  await page.waitForFunction(
    () => Number(document.querySelector('#stats-body tr')?.getAttribute('data-epoch')) > 0,
    null,
    { timeout: 1_800_000, polling: 100 },
  );
  const firstReport = (await page.evaluate(() => performance.now())) - start;
  await page.waitForFunction(
    () => ['finished', 'stopped', 'failed'].includes(document.body.dataset.phase ?? ''),
    null,
    {
      timeout: 1_800_000,
    },
  );
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
  const raw = await page.evaluate(() => (window as unknown as { longTasks: number[][] }).longTasks);
  // The profile's clock (µs) against the page's (ms): its start is the page's `start`, near enough.
  const tasks = raw.map(([at, ms]) => ({ at: at - start, ms }));
  return { tasks, firstReport, profile };
}

async function main(): Promise<void> {
  // Unminified, so the profile names the app's functions (the harness's switch).
  process.env.E2E_STACKS ??= '1';
  const served = await serveBuild();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    for (const k of members) {
      const app = { url: served.url, browser, close: async () => {} };
      const { page, context, problems } = await openApp(app);
      const { tasks, firstReport, profile } = await measure(page, k);
      const longest = Math.max(0, ...tasks.map((t) => t.ms));
      console.log(
        `Members ${k}, ${epochs} epochs on WebGPU: first report ${(firstReport / 1000).toFixed(1)} s after Start; ` +
          `longest task ${longest.toFixed(0)} ms; ${tasks.length} over 50 ms, ${tasks.filter((t) => t.ms > 200).length} over 200 ms`,
      );
      for (const task of tasks.filter((t) => t.ms > 100)) {
        const from = profile.startTime + task.at * 1000;
        const inTask = sampledIn(profile, from, from + task.ms * 1000, 6);
        console.log(
          `  ${task.ms.toFixed(0)} ms at ${(task.at / 1000).toFixed(1)} s: ${inTask || 'no JavaScript sampled'}`,
        );
      }
      if (problems.length > 0) console.log(`  problems: ${problems.join('; ')}`);
      await context.close();
    }
  } finally {
    await browser.close();
    await served.close();
  }
}

await main();
