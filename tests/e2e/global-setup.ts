// The e2e project's one build, one server and one browser: built and started once before its files
// (vitest's globalSetup), shared with every file through provide/inject (the app's address and the
// browser server's endpoint), and stopped after the last. Each test still opens its own browser
// context, so storage and pages are never shared between tests.

import { chromium } from 'playwright-core';
import type { TestProject } from 'vitest/node';
import { CHROMIUM, CHROMIUM_ARGS, serveBuild } from './harness.js';

declare module 'vitest' {
  export interface ProvidedContext {
    e2eApp: { url: string; wsEndpoint: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const served = await serveBuild();
  const browser = await chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  project.provide('e2eApp', { url: served.url, wsEndpoint: browser.wsEndpoint() });
  return async () => {
    await browser.close();
    await served.close();
  };
}
