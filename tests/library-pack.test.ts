// The library as a user gets it: built by `npm run build:lib`'s Vite configuration into a staging
// folder (package.json and the README beside; dist-lib/ of the checkout stays as it is), packed with
// `npm pack`, installed offline into an empty project with nothing else, and the README's example run
// there: in Node (on the CPU: the project has no `webgpu` package, so `auto` says so and picks the
// CPU), and in a page that Vite builds from the installed package, in headless Chromium (WebGPU on
// SwiftShader; `auto` races the two). Also: the page's JavaScript stays under 150 KB gzipped, and
// neither the page nor the library's main entry holds papaparse or uPlot.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from './e2e/harness.js';
import { repoRoot } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'webgpu-lstm-pack-'));
const project = join(work, 'project');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The README's example: the first ```js block of its "Use it as a library" section. */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it as a library'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (match === null) throw new Error('README.md: no ```js block under "Use it as a library"');
  return match[1];
}

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NODE_PATH: '' },
  });
  expect(result.status, `${command} ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** What the example prints: its progress lines' errors, its forecast and the ONNX file's size. */
function checkPrinted(lines: string[]): void {
  const errors = lines.flatMap((line) => /^epoch (\d+): error (\S+)$/.exec(line)?.slice(2).map(Number) ?? []);
  expect(errors.length, lines.join('\n')).toBe(3); // epochs 10, 20 and 30
  expect(errors[2]).toBeLessThan(errors[0]);
  const last = lines.at(-1) ?? '';
  const match = /^final error (\S+); next 12: (.*); onnx (\d+) bytes$/.exec(last);
  expect(match, last).not.toBeNull();
  const [, , next, bytes] = match as RegExpExecArray;
  const path = next.split(' ').map(Number);
  expect(path).toHaveLength(12);
  // A sine of amplitude 1 (and a little of another): the forecast stays near its range.
  for (const value of path) expect(Math.abs(value)).toBeLessThan(1.5);
  expect(Number(bytes)).toBeGreaterThan(1000);
}

describe('the packed library', () => {
  beforeAll(() => {
    const staged = join(work, 'package');
    mkdirSync(staged);
    copyFileSync(join(repoRoot, 'package.json'), join(staged, 'package.json'));
    copyFileSync(join(repoRoot, 'README.md'), join(staged, 'README.md'));
    const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
    const config = ['-c', 'vite.lib.config.ts', '--logLevel', 'warn'];
    run(process.execPath, [vite, 'build', ...config, '--outDir', join(staged, 'dist-lib')], repoRoot);
    run(
      process.execPath,
      [vite, 'build', ...config, '--mode', 'node', '--outDir', join(staged, 'dist-lib', 'node')],
      repoRoot,
    );
    run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], staged);
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{ "name": "user-project", "private": true, "type": "module" }\n');
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, tarball ?? 'none.tgz')], project);
  });

  it('installs with nothing else, and its main entry holds no CSV parser or chart', () => {
    expect(readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['webgpu-lstm']);
    const dist = join(project, 'node_modules', 'webgpu-lstm', 'dist-lib');
    const main = readFileSync(join(dist, 'index.js'), 'utf8');
    const imported = [...main.matchAll(/from\s*"\.\/([^"]+)"/g)].map((m) => readFileSync(join(dist, m[1]), 'utf8'));
    for (const text of [main, ...imported]) expect(text).not.toMatch(/papaparse|Papa\.parse|uPlot/);
  });

  it("runs the README's example in Node", () => {
    writeFileSync(join(project, 'example.mjs'), readmeExample());
    const lines = run(process.execPath, ['example.mjs'], project).trim().split('\n');
    checkPrinted(lines);
  });

  it("runs the README's example in a page Vite builds, in headless Chromium", async () => {
    const page = join(project, 'page');
    mkdirSync(page);
    writeFileSync(join(page, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
    // The example as the page's module (its imports are hoisted above the line that catches its prints).
    writeFileSync(
      join(page, 'main.js'),
      `const printed = (window.printed = []);\nconst console = { log: (line) => printed.push(String(line)) };\n${readmeExample()}\nwindow.done = true;\n`,
    );
    const outDir = join(page, 'dist');
    await build({ root: page, logLevel: 'warn', configFile: false, build: { outDir, target: 'es2022' } });
    const scripts = readdirSync(join(outDir, 'assets')).filter((name) => name.endsWith('.js'));
    const gzipped = scripts.reduce((sum, name) => sum + gzipSync(readFileSync(join(outDir, 'assets', name))).length, 0);
    console.log(`the example's page: ${scripts.length} script(s), ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeLessThan(150 * 1024);
    const server = await preview({
      root: page,
      configFile: false,
      logLevel: 'warn',
      build: { outDir },
      preview: { port: 0, host: 'localhost' },
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage();
      const problems: string[] = [];
      tab.on('pageerror', (err) => problems.push(err.message));
      const failed = new Promise<void>((resolve) => tab.on('pageerror', () => resolve()));
      await tab.goto(server.resolvedUrls?.local[0] ?? '');
      const done = tab.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, null, {
        timeout: 90_000,
      });
      await Promise.race([done, failed]);
      const lines = await tab.evaluate(() => (window as unknown as { printed: string[] }).printed);
      expect(problems).toEqual([]);
      checkPrinted(lines);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
