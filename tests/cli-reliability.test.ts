// The CLI against an attacker and an unlucky user (issue 14), as a user runs it: numbers beyond
// float32, saves that are refused up front or killed halfway, files that never end, a pathological
// CSV cell, shapes too large to allocate, UTF-16 files, a closed or full stdout, and SwiftShader's
// XDG_RUNTIME_DIR complaint in any environment. Each failure is one line on stderr, no stack trace.
// Refusals run in-process (cli(): runCli, what main.ts calls, returns the exit status); a process is
// started only where only a process shows it: a kill mid-save, a FIFO whose blocking open would hang
// the test worker (the child's timeout turns that into a failure), a closed pipe, /dev/full (exit set
// by process.exit), and the environment (five children at once: they share and time nothing).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { toModelFile } from '../src/train/modelFile.js';
import { CLI_ARGS, type CliResult, cli, repoRoot, spawnCli, temporaryFolder, withoutDriverChatter } from './helpers.js';

const tmp = temporaryFolder('webgpu-lstm-cli-reliability-');

/** A valid model file (a sine model: window 10, one input and output) as parsed JSON. */
function modelJson(config = { inputSize: 1, hiddenSizes: [4], outputSize: 1, window: 10 }) {
  const layout = paramLayout(config);
  return JSON.parse(JSON.stringify(toModelFile({ config, layout, params: initParams(layout, new Rng(3)) }, 2)));
}

function write(name: string, content: string | Buffer): string {
  const path = join(tmp, name);
  fs.writeFileSync(path, content);
  return path;
}

/** Exit 2 with exactly one line on stderr matching `message`, nothing on stdout. */
function expectRefusal(result: CliResult, message: RegExp | string): void {
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
}

describe('numbers beyond float32', () => {
  const big = modelJson();
  big.lstm[0].w[1][0][3] = 1e39;
  const bigModel = write('big.json', JSON.stringify(big));
  const field =
    /error: lstm\[0\]\.w\[1\]\[0\]\[3\]: expected a number finite in float32 \(at most 3\.4028235e38 in magnitude\), got 1e\+39/;

  it('predict, train --load and gradients refuse a model weight of 1e39, naming it', async () => {
    expectRefusal(await cli(['predict', '--model', bigModel]), field);
    expectRefusal(await cli(['train', '--backend', 'cpu', '--load', bigModel, '--save', join(tmp, 'out.json')]), field);
    expect(fs.existsSync(join(tmp, 'out.json'))).toBe(false);
  });

  it('gradients refuses a batch value of 3.5e38', async () => {
    const model = write('ok.json', JSON.stringify(modelJson()));
    const x = Array.from({ length: 10 }, () => [0.5]);
    x[2][0] = 3.5e38;
    const batch = write('batch-big.json', JSON.stringify({ x: [x], t: [[0]] }));
    expectRefusal(
      await cli(['gradients', '--backend', 'cpu', '--model', model, '--batch', batch]),
      /error: batch\.x\[0\]\[2\]\[0\]: expected a number finite in float32 .*got 3\.5e\+38/,
    );
  });
});

describe('results beyond float32', () => {
  it('predict refuses a forecast that overflows in the data’s units instead of printing Infinity', async () => {
    const model = modelJson();
    model.dense.b = [3];
    model.normalisation = { method: 'z-score', columns: ['sine'], offset: [0], scale: [3e38] };
    const path = write('overflowing.json', JSON.stringify(model));
    expectRefusal(
      await cli(['predict', '--model', path, '--steps', '3']),
      /^error: --model: the forecast for "sine" at step 1 is 9e\+38, beyond float32's range/,
    );
  });

  it('gradients refuses an infinite gradient instead of printing null', async () => {
    const model = modelJson();
    model.dense.b = [3e38];
    const path = write('huge-output.json', JSON.stringify(model));
    const batch = write(
      'far-target.json',
      JSON.stringify({ x: [Array.from({ length: 10 }, () => [0])], t: [[-3e38]] }),
    );
    const result = await cli(['gradients', '--backend', 'cpu', '--model', path, '--batch', batch]);
    // gradients says which backend it runs on (stderr), then the one error line.
    const [note, error, ...rest] = result.stderr.trimEnd().split('\n');
    expect(note).toBe('backend: cpu');
    expect(error).toMatch(
      /^error: grads\.\S+: is (-?Infinity|NaN), not a number finite in float32 .*JSON cannot hold it/,
    );
    expect(rest).toEqual([]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
  });
});

describe('--save', () => {
  it('is refused before training when it cannot work: missing folder, a directory, empty, not writable', async () => {
    const train = (save: string) => cli(['train', '--backend', 'cpu', '--epochs', '3', '--save', save]);
    expectRefusal(await train(join(tmp, 'missing', 'm.json')), /^error: --save: the folder ".*missing" does not exist/);
    expectRefusal(await train(tmp), /^error: --save: ".*" is a directory; expected a file name/);
    expectRefusal(await train(''), /^error: --save: expected a value that is not empty/);
    expectRefusal(await train('/sys/m.json'), /^error: --save: cannot write in the folder "\/sys"/);
  });

  it('leaves the old model whole when the process is killed while writing the new one', async () => {
    const folder = fs.mkdtempSync(join(tmp, 'kill-'));
    const target = join(folder, 'model.json');
    const old = `${JSON.stringify(modelJson())}\n`;
    fs.writeFileSync(target, old);
    // A preload that makes every write to a temporary file slow and short, so the kill lands while
    // the new model is half written, whatever the machine's speed.
    const slow = join(folder, 'slow-writes.mjs');
    fs.writeFileSync(
      slow,
      `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const temporary = new Set();
const { openSync, writeSync } = fs;
fs.openSync = (path, ...rest) => {
  const fd = openSync(path, ...rest);
  if (String(path).endsWith('.tmp')) temporary.add(fd);
  return fd;
};
fs.writeSync = (fd, buffer, offset = 0, length = buffer.length - offset, ...rest) => {
  if (!temporary.has(fd)) return writeSync(fd, buffer, offset, length, ...rest);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return writeSync(fd, buffer, offset, Math.min(length, 4096), ...rest);
};
syncBuiltinESMExports();
`,
    );
    const child = spawn(
      process.execPath,
      [
        '--import',
        slow,
        ...CLI_ARGS,
        'train',
        '--backend',
        'cpu',
        '--hidden',
        '64',
        '--epochs',
        '1',
        '--json',
        '--save',
        target,
      ],
      { cwd: repoRoot, stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Kill as soon as a temporary file holds part of the new model.
    let partial = 0;
    while (child.exitCode === null && partial === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      for (const name of fs.readdirSync(folder).filter((n) => n.endsWith('.tmp'))) {
        partial = Math.max(partial, fs.statSync(join(folder, name)).size);
      }
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(partial).toBeGreaterThan(0);
    expect(fs.readFileSync(target, 'utf8')).toBe(old);
  }, 120_000);
});

describe('unbounded or hostile input files', () => {
  it('refuses /dev/zero, /dev/urandom, a FIFO and an oversized sparse file, naming the option', async () => {
    expectRefusal(await cli(['predict', '--model', '/dev/zero']), 'error: --model: "/dev/zero" is a character device');
    expectRefusal(
      await cli(['train', '--backend', 'cpu', '--data', '/dev/urandom']),
      'error: --data: "/dev/urandom" is a character device',
    );
    const fifo = join(tmp, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    // A regression would block forever on the open: the timeout turns that into a failure.
    const model = write('for-fifo.json', JSON.stringify(modelJson()));
    expectRefusal(
      spawnCli(['gradients', '--model', model, '--batch', fifo], { timeout: 30_000 }),
      `error: --batch: "${fifo}" is a FIFO (named pipe); expected a regular file`,
    );
    const sparse = join(tmp, 'sparse.csv');
    fs.closeSync(fs.openSync(sparse, 'w'));
    fs.truncateSync(sparse, 257 * 2 ** 20);
    expectRefusal(
      await cli(['train', '--backend', 'cpu', '--data', sparse]),
      `error: --data: "${sparse}" is 257.0 MiB; at most 256.0 MiB can be read`,
    );
  });

  it('refuses a CSV cell of 300,000 digits then x at once, naming row, column and the limit', async () => {
    const csv = write('digits.csv', `a,b\n1,2\n3,${'9'.repeat(300_000)}x\n5,6\n`);
    expectRefusal(
      await cli(['train', '--backend', 'cpu', '--data', csv]),
      /error: --data .*digits\.csv: row 3, column "b": the cell holds 300,001 characters; a value or date may have at most 1,000/,
    );
  });

  it('refuses a small batch file for a model with window 4096 and 1,024 inputs before allocating', async () => {
    const wide = write(
      'wide.json',
      JSON.stringify(modelJson({ inputSize: 1024, hiddenSizes: [1], outputSize: 1, window: 4096 })),
    );
    const batch = write('small-batch.json', JSON.stringify({ x: Array.from({ length: 100_000 }, () => [[0]]), t: [] }));
    expectRefusal(
      await cli(['gradients', '--backend', 'cpu', '--model', wide, '--batch', batch]),
      'error: batch.x: 100000 samples × 4096 steps × 1024 inputs is 419,430,400,000 values, over the limit of 268,435,456',
    );
  });

  it('reads a model saved as UTF-8 with a byte-order mark, and refuses UTF-16 by name', async () => {
    const text = JSON.stringify(modelJson());
    const bom = write('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    const predicted = await cli(['predict', '--model', bom, '--steps', '2']);
    expect(predicted.status).toBe(0);
    expect(predicted.stdout.split('\n')[0]).toBe('step,row,sine');
    const utf16 = write('utf16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expectRefusal(
      await cli(['predict', '--model', utf16]),
      `error: --model: "${utf16}" is UTF-16 text; save it as UTF-8`,
    );
  });
});

describe('stdout closed early or full', () => {
  /** `cli … | head -1` in bash: the CLI's exit status, its stderr, and the line head printed. */
  function headOne(args: string[]) {
    const command = [process.execPath, ...CLI_ARGS, ...args].map((word) => `'${word}'`).join(' ');
    const result = spawnSync('bash', ['-c', `${command} | head -1; exit \${PIPESTATUS[0]}`], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: result.status, first: result.stdout, stderr: result.stderr };
  }

  it('train | head -1 and predict | head -1 end quietly with status 141, as SIGPIPE would', () => {
    const train = headOne(['train', '--backend', 'cpu', '--epochs', '100000', '--report', '1']);
    expect(train).toEqual({ status: 141, first: 'backend: cpu\n', stderr: '' });
    const model = write('for-predict.json', JSON.stringify(modelJson()));
    const predict = headOne(['predict', '--model', model, '--steps', '10000']);
    expect(predict).toEqual({ status: 141, first: 'step,row,sine\n', stderr: '' });
  }, 120_000);

  it('a full disk on stdout (/dev/full) is one line naming stdout and exit 2', () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      const result = spawnCli(['train', '--backend', 'cpu', '--epochs', '20'], { stdio: ['ignore', full, 'pipe'] });
      expect(result.stderr).toBe('error: cannot write to stdout (ENOSPC)\n');
      expect(result.status).toBe(2);
    } finally {
      fs.closeSync(full);
    }
  });
});

/** spawnCli without blocking the worker, so several children can run at once. */
function spawnCliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: repoRoot, env, timeout: 280_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({
        status,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: withoutDriverChatter(Buffer.concat(err).toString('utf8')),
      }),
    );
  });
}

// The five environments are five children that share nothing and time nothing: they run at once
// (describe.concurrent), each test with the same assertions as when they ran one after another.
describe('a process whose only pending work is its member threads', () => {
  it('search on two threads prints its one JSON object and exits 0 (it ended silently, 0, while a population ended)', () => {
    // Two columns, so the held-out forecast is skipped and the ensemble's population is ended at once,
    // with the weights it was just sent still being answered.
    const rows = Array.from({ length: 200 }, (_, i) => `${(10 + Math.sin(i / 5)).toFixed(3)},${(i % 7).toFixed(1)}`);
    const data = write('two-columns.csv', ['sales,weekday', ...rows].join('\n'));
    const args = ['search', '--data', data, '--outputs', 'sales', '--lr', '0.01', '--hidden', '4', '--window', '5,6'];
    const result = spawnCli([...args, '--seeds', '2', '--epochs', '2', '--backend', 'cpu', '--threads', '2', '--json']);
    expect(withoutDriverChatter(result.stderr)).toBe('');
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.configurations).toHaveLength(2);
    expect([0, 1]).toContain(out.chosen.index);
  });
});

describe.concurrent("SwiftShader's XDG_RUNTIME_DIR complaint", () => {
  // libwayland (inside SwiftShader) prints it twice unless XDG_RUNTIME_DIR is an absolute path.
  const unwritableTemp = write('not-a-folder', 'a file, so no temporary folder can be made under it');
  const environments: [string, Record<string, string | undefined>][] = [
    ['unset', { XDG_RUNTIME_DIR: undefined }],
    ['empty', { XDG_RUNTIME_DIR: '' }],
    ['a relative path that exists', { XDG_RUNTIME_DIR: '.' }],
    ['a missing folder', { XDG_RUNTIME_DIR: join(tmp, 'no-such-runtime-dir') }],
    // tsx caches compiled files in the temporary folder; without one it must not try.
    [
      'unset, with no writable temporary folder and no HOME',
      { XDG_RUNTIME_DIR: undefined, TMPDIR: unwritableTemp, HOME: '/nonexistent', TSX_DISABLE_CACHE: '1' },
    ],
  ];
  for (const [name, changes] of environments) {
    it(`says nothing on stderr with --backend webgpu when XDG_RUNTIME_DIR is ${name}`, async ({ expect }) => {
      const env: NodeJS.ProcessEnv = { ...process.env, ...changes };
      for (const [key, value] of Object.entries(changes)) if (value === undefined) delete env[key];
      const result = await spawnCliAsync(
        ['train', '--backend', 'webgpu', '--hidden', '2', '--epochs', '1', '--json'],
        env,
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(JSON.parse(result.stdout).backend).toBe('webgpu');
    }, 300_000);
  }
});
