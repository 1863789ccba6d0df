// `npm run build:cli`'s one-file CLI: built, copied with Dawn's dawn.node alone into an empty folder,
// and run there with plain `node` (no node_modules, no tsx), as on a GPU server: `bench` on this
// machine's adapter (SwiftShader here) prints its results; and again with dawn.node moved and
// WEBGPU_DAWN naming it.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

const BUNDLE = 'webgpu-lstm.mjs';
const DAWN = join(repoRoot, 'node_modules', 'webgpu', 'dist', `${process.platform}-${process.arch}`, 'dawn.node');
const work = mkdtempSync(join(tmpdir(), 'webgpu-lstm-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the CLI bundle', () => {
  it('runs bench from an empty folder with only dawn.node beside it', () => {
    const built = join(work, 'built');
    // The build script's own configuration, into a folder of the test's (dist-cli/ stays as it is).
    const build = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'vite.cli.config.ts',
        '--outDir',
        built,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    expect(build.status, build.stderr).toBe(0);
    expect(readdirSync(built)).toEqual([BUNDLE]);

    const server = join(work, 'server');
    mkdirSync(server);
    copyFileSync(join(built, BUNDLE), join(server, BUNDLE));
    copyFileSync(DAWN, join(server, 'dawn.node'));
    const args = [BUNDLE, 'bench', '--backend', 'webgpu,cpu', '--hidden', '8', '--batch', '4', '--steps', '2'];
    const run = (extra: string[], env: NodeJS.ProcessEnv = process.env) =>
      spawnSync(process.execPath, [...args, '--repetitions', '1', ...extra], {
        cwd: server,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...env, NODE_PATH: '' },
      });
    const json = run(['--json']);
    expect(json.status, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.adapter).not.toBeNull();
    expect(out.results.map((r: { backend: string }) => r.backend).sort()).toEqual(['cpu', 'webgpu']);
    for (const result of out.results) {
      expect(result.skipped).toBeNull();
      expect(result.stepsPerSecond).toBeGreaterThan(0);
    }
    const gpu = out.results.find((r: { backend: string }) => r.backend === 'webgpu');
    expect(gpu.variant).toMatch(/^(fused|stepwise|persistent)\/(software|hardware)$/);
    // The table a person reads, too, with dawn.node elsewhere and WEBGPU_DAWN naming it.
    mkdirSync(join(server, 'lib'));
    renameSync(join(server, 'dawn.node'), join(server, 'lib', 'dawn.node'));
    const table = run([], { ...process.env, WEBGPU_DAWN: join(server, 'lib', 'dawn.node') });
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^webgpu\s+8\s+4\s/m);
    // A WEBGPU_DAWN naming nothing is said in one line, with the path, when WebGPU is asked for.
    const missing = join(server, 'nowhere', 'dawn.node');
    const refused = spawnSync(process.execPath, [BUNDLE, 'train', '--backend', 'webgpu', '--epochs', '1'], {
      cwd: server,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, WEBGPU_DAWN: missing },
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `error: --backend: webgpu is not available: the webgpu module did not load (WEBGPU_DAWN: no file at ${missing})`,
    );
    // (Calibrated anew: on a shared machine the pick may differ from the first run's.) The variant
    // names the adapter's kind as --json reported it: software only on a software adapter (SwiftShader).
    const kind = gpu.variant.split('/')[1];
    expect(kind).toBe(out.adapter.software ? 'software' : 'hardware');
    expect(table.stdout).toMatch(new RegExp(`^webgpu\\s+8\\s+4\\s.*\\s(fused|stepwise|persistent)/${kind}\\s`, 'm'));
  });
});
