// The command-line tool as a user runs it: output formats, saved files, and bad input (exit 2, one
// line on stderr, no stack trace).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../src/train/modelFile.js';
import { fixturesDir, cli as runCli, temporaryFolder } from './helpers.js';

const cli = (...args: string[]) => runCli(args);

const tmp = temporaryFolder('webgpu-lstm-cli-');

describe('cli train', () => {
  it('--json prints exactly one JSON object with the documented fields, and --save writes a loadable model', async () => {
    const save = join(tmp, 'model.json');
    const { status, stdout } = await cli(
      'train',
      '--backend',
      'cpu',
      '--epochs',
      '12',
      '--hidden',
      '6,5',
      '--json',
      '--save',
      save,
    );
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.backend).toBe('cpu');
    expect(out.config).toMatchObject({ inputSize: 1, hiddenSizes: [6, 5], outputSize: 1, window: 10, batch: 8 });
    expect(out.epochs).toBe(12);
    expect(out.steps).toBe(12 * 5);
    expect(out.losses).toHaveLength(12);
    expect(out.finalLoss).toBe(out.losses[11]);
    expect(out.stepsPerSecond).toBeCloseTo(out.steps / out.seconds, 6);
    expect(out.msPerEpoch).toBeCloseTo((1000 * out.seconds) / 12, 6);
    expect(out.gpu).toBeNull();
    // The CPU backend's threads ('auto' by default: measured, so 1 or more) and SIMD variant.
    expect(out.threads).toBeGreaterThanOrEqual(1);
    expect(['simd', 'relaxedSimd']).toContain(out.simd);
    const model = readModelFile(JSON.parse(readFileSync(save, 'utf8')));
    expect(model.config.hiddenSizes).toEqual([6, 5]);
  });

  it('prints progress and a summary for a person without --json', async () => {
    const { status, stdout } = await cli('train', '--backend', 'cpu', '--epochs', '20', '--report', '10');
    expect(status).toBe(0);
    expect(stdout).toMatch(/epoch 10\/20 {2}error \d/);
    expect(stdout).toMatch(/done: error .* -> .* steps\/s.*, \d+ CPU threads?\)/);
  });

  it('--threads sets the CPU backend’s threads, and says how many it ran on', async () => {
    const { status, stdout } = await cli('train', '--backend', 'cpu', '--epochs', '3', '--threads', '2', '--json');
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.threads).toBe(2);
    const one = JSON.parse(
      (await cli('train', '--backend', 'cpu', '--epochs', '3', '--threads', '1', '--json')).stdout,
    );
    expect(one.threads).toBe(1);
    // Any thread count gives exactly the one-thread results.
    expect(out.losses).toEqual(one.losses);
  });
});

describe('cli train that diverges', () => {
  it('stops, names the epoch, suggests a lower rate, exits 3 and saves the last finite weights', async () => {
    const save = join(tmp, 'diverged.json');
    const { status, stdout, stderr } = await cli(
      'train',
      '--backend',
      'cpu',
      '--lr',
      '50',
      '--epochs',
      '40',
      '--report',
      '5',
      '--json',
      '--save',
      save,
    );
    expect(status).toBe(3);
    expect(stderr).toMatch(/training diverged at epoch \d+ .*Try a lower learning rate \(now 50\)/);
    const out = JSON.parse(stdout);
    expect(out.diverged.epoch).toBeGreaterThan(0);
    expect(out.losses.every(Number.isFinite)).toBe(true);
    const model = readModelFile(JSON.parse(readFileSync(save, 'utf8')));
    expect(model.params.every(Number.isFinite)).toBe(true);
  });
});

describe('cli --data as brokers and other locales write CSVs (issue 13)', () => {
  it('reads dollar prices newest first (reversed, with a note), refuses a text column by its reason, and takes --decimal', async () => {
    const csv = join(tmp, 'broker.csv');
    const day = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 86_400_000);
    const mdy = (d: Date) =>
      `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
    const rows = Array.from({ length: 40 }, (_, i) => 39 - i).map(
      (i) => `${mdy(day(i))},$${(1000 + 20 * Math.sin(i / 3)).toFixed(2)},AAPL`,
    );
    writeFileSync(csv, `Date,Close/Last,Ticker\r\n${rows.join('\r\n')}\r\n`);
    const run = await cli(
      'train',
      '--backend',
      'cpu',
      '--data',
      csv,
      ...'--window 5 --hidden 4 --epochs 2 --json'.split(' '),
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`note: ${csv} runs newest first (by "Date"); its rows were reversed`);
    const out = JSON.parse(run.stdout);
    expect(out.data).toMatchObject({ inputs: ['Close/Last'], outputs: ['Close/Last'] });
    // Every row read: 40 rows, windows of 5 and one more row for the differences (a CSV's default).
    expect(out.data.trainSamples + out.data.validationSamples + out.data.testSamples).toBe(34);

    const text = await cli('train', '--backend', 'cpu', '--data', csv, '--inputs', 'Ticker', '--epochs', '1');
    expect(text.status).toBe(2);
    expect(text.stderr.trim()).toBe(
      'error: --inputs: "Ticker" is not a column of numbers: not numbers (row 2 holds "AAPL"); the value columns are "Close/Last"',
    );
    const bad = await cli('train', '--backend', 'cpu', '--data', csv, '--decimal', ';');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^error: --decimal: expected one of auto, \., ,/);
    // A lone 1.234 is a decimal point unless --decimal says it is a thousands separator.
    const lone = join(tmp, 'lone.csv');
    writeFileSync(
      lone,
      `v\n${Array.from({ length: 30 }, (_, i) => `${i + 1}.${String(100 + ((i * 37) % 900))}`).join('\n')}\n`,
    );
    const predicted = (decimal: string) =>
      cli(
        'train',
        '--backend',
        'cpu',
        '--data',
        lone,
        '--decimal',
        decimal,
        ...'--window 3 --hidden 2 --epochs 1 --normalise none --json'.split(' '),
      );
    const point = JSON.parse((await predicted('auto')).stdout);
    const comma = JSON.parse((await predicted(',')).stdout);
    // The same series read in thousands is a thousand times larger, and so is its error.
    expect(comma.losses[0] / point.losses[0]).toBeGreaterThan(1e4);
  });
});

describe('cli data sources, save, load and predict', () => {
  const csv = join(tmp, 'prices.csv');
  writeFileSync(
    csv,
    `\ufeffdate;price\r\n${Array.from({ length: 60 }, (_, i) => `2020-01-${String(i + 1).padStart(2, '0')};${(10 + Math.sin(i / 3)).toFixed(4)}`).join('\r\n')}\r\n`,
  );

  it('trains on a CSV file with a validation split, saves normalisation and data settings, and goes on from it', async () => {
    const save = join(tmp, 'csv-model.json');
    const first = await cli(
      'train',
      '--backend',
      'cpu',
      '--data',
      csv,
      '--window',
      '5',
      '--hidden',
      '6',
      '--epochs',
      '6',
      '--json',
      '--save',
      save,
    );
    expect(first.status).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.data).toMatchObject({
      source: csv,
      inputs: ['price'],
      outputs: ['price'],
      normalise: 'z-score',
      transform: 'differences',
    });
    // 60 rows, a window of 5 and differences (which look one row back): 54 samples in three parts.
    expect(out.data.trainSamples + out.data.validationSamples + out.data.testSamples).toBe(54);
    expect(out.validationLosses.length).toBeGreaterThan(0);
    expect(Number.isFinite(out.finalValidationLoss)).toBe(true);
    const saved = JSON.parse(readFileSync(save, 'utf8'));
    expect(saved.normalisation.method).toBe('z-score');
    expect(saved.data).toMatchObject({ inputs: ['price'], outputs: ['price'], trainFraction: 0.8 });

    const again = await cli('train', '--backend', 'cpu', '--data', csv, '--load', save, '--epochs', '3', '--json');
    expect(again.status).toBe(0);
    const next = JSON.parse(again.stdout);
    expect(next.config).toMatchObject({ hiddenSizes: [6], window: 5 });
    // Going on from the kept epoch: its errors so far come first, and the new epochs number on from it.
    const kept = out.bestEpoch.epoch;
    expect(next.firstEpoch).toBe(kept + 1);
    expect(next.losses.slice(0, kept)).toEqual(out.losses.slice(0, kept));
    expect(next.losses).toHaveLength(kept + 3);
    // Going on from trained weights starts below where training from scratch started.
    expect(next.losses[kept]).toBeLessThan(out.losses[0]);

    const predicted = await cli('predict', '--model', save, '--data', csv, '--steps', '4');
    expect(predicted.status).toBe(0);
    const lines = predicted.stdout.trim().split('\n');
    expect(lines[0]).toBe('step,date,price');
    expect(lines).toHaveLength(5);
    for (const line of lines.slice(1)) {
      const value = Number(line.split(',')[2]);
      expect(value).toBeGreaterThan(5); // original units (around 10), not z-scores
      expect(value).toBeLessThan(15);
    }
  });

  it('trains on a bundled series and a generated one', async () => {
    const stocks = await cli(
      'train',
      '--backend',
      'cpu',
      '--dataset',
      'stocks',
      '--symbol',
      'IBM',
      '--hidden',
      '4',
      '--epochs',
      '2',
      '--json',
    );
    expect(stocks.status).toBe(0);
    // 123 months: the first 86 train (less the window and the log return's lag).
    expect(JSON.parse(stocks.stdout).data.trainSamples).toBe(86 - 10 - 1);
    const square = await cli(
      'train',
      '--backend',
      'cpu',
      '--series',
      'square',
      '--period',
      '8',
      '--points',
      '80',
      '--epochs',
      '2',
      '--json',
    );
    expect(square.status).toBe(0);
    expect(JSON.parse(square.stdout).config.series).toMatchObject({ kind: 'square', period: 8, points: 80 });
  });

  it('refuses a loaded model whose shape does not fit, and mixed sources', async () => {
    const save = join(tmp, 'small.json');
    expect((await cli('train', '--backend', 'cpu', '--hidden', '3', '--epochs', '1', '--save', save)).status).toBe(0);
    const bad = await cli('train', '--backend', 'cpu', '--load', save, '--hidden', '4');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /--load: the model is .*hiddenSizes \[3\].*but the data and options give .*hiddenSizes \[4\]/,
    );
    const mixed = await cli('train', '--backend', 'cpu', '--dataset', 'co2', '--data', csv);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(/--data: cannot be combined with --dataset/);
  });
});

describe('cli optimisers', () => {
  it('trains with adam and mse, saves the optimiser state, and --load goes on with it', async () => {
    const save = join(tmp, 'adam.json');
    const first = await cli(
      'train',
      '--backend',
      'cpu',
      '--optimizer',
      'adam',
      '--loss',
      'mse',
      '--lr',
      '0.005',
      '--clip-norm',
      '5',
      '--lr-decay',
      '0.99',
      '--epochs',
      '30',
      '--json',
      '--save',
      save,
    );
    expect(first.status).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.config.optimizer).toMatchObject({ name: 'adam', clipNorm: 5 });
    expect(out.config).toMatchObject({ loss: 'mse', lrDecay: 0.99 });
    expect(out.finalLoss).toBeLessThan(0.5 * out.losses[0]);
    const saved = JSON.parse(readFileSync(save, 'utf8'));
    expect(saved.optimizer).toMatchObject({ name: 'adam', step: 30 * 5, loss: 'mse' });
    expect(saved.optimizer.slots.count).toBe(2 * readModelFile(saved).params.length);
    const again = await cli('train', '--backend', 'cpu', '--load', save, '--lr', '0.005', '--epochs', '5', '--json');
    expect(again.status).toBe(0);
    const next = JSON.parse(again.stdout);
    expect(next.config.optimizer.name).toBe('adam');
    expect(next.config.loss).toBe('mse');
    // Epochs 31–35 follow the 30 saved ones, from trained weights and Adam's saved moments.
    expect(next.losses.slice(0, 30)).toEqual(out.losses);
    expect(next.losses[30]).toBeLessThan(out.losses[0]);
  });

  it('refuses unknown optimisers and out-of-range settings', async () => {
    const bad = await cli('train', '--backend', 'cpu', '--optimizer', 'rmsprop');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--optimizer: expected one of sgd, momentum, adam/);
    const beta = await cli('train', '--backend', 'cpu', '--optimizer', 'adam', '--beta2', '1');
    expect(beta.status).toBe(2);
    expect(beta.stderr).toMatch(/--beta2: expected a number/);
  });
});

describe('cli bench', () => {
  it('--json runs a tiny sweep on both backends and prints results with the documented fields', async () => {
    const { status, stdout } = await cli(
      'bench',
      '--backend',
      'cpu,webgpu',
      '--hidden',
      '4,8',
      '--batch',
      '2',
      '--window',
      '3',
      '--steps',
      '2',
      '--repetitions',
      '2',
      '--json',
    );
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.method).toMatch(/median/);
    expect(out.adapter).toMatchObject({ architecture: expect.any(String), software: expect.any(Boolean) });
    expect(out.results).toHaveLength(4);
    for (const r of out.results) {
      expect(Object.keys(r)).toEqual(
        expect.arrayContaining([
          'backend',
          'hidden',
          'batch',
          'window',
          'stepsPerSecond',
          'msPerStep',
          'gflops',
          'dispatchesPerStep',
        ]),
      );
      expect(r.skipped).toBeNull();
      expect(r.stepsPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(r.gflops)).toBe(true);
      expect(r.window).toBe(3);
      expect(r.dispatchesPerStep === null).toBe(r.backend === 'cpu');
      // The GPU's split of a step (SwiftShader here offers timestamp-query); none on the CPU.
      if (r.backend === 'cpu') expect(r.kernelMs).toBeUndefined();
      else expect(Object.keys(r.kernelMs)).toEqual(['forward', 'backward', 'weightGradients', 'update']);
      // What a CPU case ran on; nothing of the kind on the GPU.
      if (r.backend === 'cpu') expect(r.threads).toBeGreaterThanOrEqual(1);
      else expect(r.threads).toBeUndefined();
    }
    expect(out.results.map((r: { backend: string; hidden: number }) => `${r.backend}:${r.hidden}`)).toEqual([
      'cpu:4',
      'cpu:8',
      'webgpu:4',
      'webgpu:8',
    ]);
  });

  it('prints a readable table by default and refuses a bad backend list', async () => {
    const { status, stdout } = await cli(
      'bench',
      '--backend',
      'cpu,webgpu',
      '--hidden',
      '4',
      '--batch',
      '2',
      '--steps',
      '1',
      '--repetitions',
      '1',
    );
    expect(status).toBe(0);
    expect(stdout).toMatch(/backend\s+hidden\s+batch\s+steps\/s.*kernel ms fwd\/bwd\/wgrad\/upd$/m);
    expect(stdout).toMatch(/^cpu\s+4\s+2\s+\d.*\s-$/m);
    expect(stdout).toMatch(/^webgpu\s+4\s+2\s+\d.*\s[\d.e-]+\/[\d.e-]+\/[\d.e-]+\/[\d.e-]+$/m);
    const cpuOnly = await cli(
      'bench',
      '--backend',
      'cpu',
      '--hidden',
      '4',
      '--batch',
      '2',
      '--steps',
      '1',
      '--repetitions',
      '1',
    );
    expect(cpuOnly.stdout).not.toMatch(/kernel ms/);
    const bad = await cli('bench', '--backend', 'cpu,tpu');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--backend: expected a comma list of cpu and webgpu/);
  });
});

describe('cli gradients', () => {
  it('matches the fixture', async () => {
    const dir = join(fixturesDir, 'multi');
    const { status, stdout } = await cli(
      'gradients',
      '--backend',
      'cpu',
      '--model',
      join(dir, 'model.json'),
      '--batch',
      join(dir, 'batch.json'),
    );
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    expect(out.loss).toBeCloseTo(expected.loss, 4);
    expect(out.y).toHaveLength(expected.y.length);
    expect(out.grads.lstm[0].w).toHaveLength(4);
    expect(out.grads.dense.w[0][1]).toBeCloseTo(expected.grads.dense.w[0][1], 4);
  });
});

describe('cli bad input: exit 2 and one clear line', () => {
  const badModel = join(tmp, 'bad-model.json');
  writeFileSync(
    badModel,
    JSON.stringify({
      format: 'webgpu-lstm/model',
      version: 1,
      config: { inputSize: 1, hiddenSizes: [2], outputSize: 1, window: 2 },
      lstm: [{ w: [[[1, 2]]], v: [], b: [] }],
      dense: { w: [[1], [2]], b: [0] },
    }),
  );
  const truncated = join(tmp, 'truncated.json');
  writeFileSync(truncated, '{"format": "webgpu-lstm/mo');
  const tiny = join(fixturesDir, 'tiny');
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['fly'], /unknown command "fly"/],
    ['unknown option', ['train', '--speed', '3'], /Unknown option '--speed'/],
    ['non-numeric value', ['train', '--epochs', 'ten'], /--epochs: expected a number, got "ten"/],
    ['zero', ['train', '--batch', '0'], /--batch: expected a whole number from 1 to/],
    ['fraction', ['train', '--window', '2.5'], /--window: expected a whole number/],
    ['negative rate', ['train', '--lr=-1'], /--lr: expected a number greater than 0/],
    ['option value that looks like an option', ['train', '--lr', '-1'], /--lr/],
    [
      'value missing before another option',
      ['train', '--lr', '--epochs', '3'],
      /^error: --lr: expected a value \(a number greater than 0 and at most 1000000\), got the option "--epochs" after it\n$/,
    ],
    [
      'value missing at the end',
      ['search', '--hidden'],
      /^error: --hidden: expected a value \(a comma list of 1 to 64 values, each 1 to 8 comma-separated whole numbers/,
    ],
    [
      'switch value missing',
      ['search', '--best-epoch'],
      /^error: --best-epoch: expected a value \(one of on, off\), got nothing after it\n$/,
    ],
    ['batch above sample count', ['train', '--batch', '41'], /--batch: expected a whole number from 1 to 40/],
    ['points not above window', ['train', '--points', '10'], /--points: expected a whole number from 11/],
    ['hidden list', ['train', '--hidden', '30,,2'], /--hidden: expected comma-separated whole numbers/],
    ['huge hidden', ['train', '--hidden', '100000'], /--hidden: .*from 1 to 4096/],
    [
      'model too large',
      ['train', '--hidden', '4096,4096,4096,4096'],
      /hidden: the model would have .* parameters; at most/,
    ],
    ['backend', ['train', '--backend', 'tpu'], /--backend: expected one of auto, cpu, webgpu/],
    ['threads', ['train', '--threads', '17'], /--threads: expected auto or a whole number from 1 to 16, got "17"/],
    [
      'bench threads',
      ['bench', '--threads', 'all'],
      /--threads: expected auto or a whole number from 1 to 16, got "all"/,
    ],
    ['missing file option', ['gradients', '--batch', 'x.json'], /--model: is required/],
    ['missing file', ['gradients', '--model', join(tmp, 'nope.json'), '--batch', 'x'], /--model: cannot read .*ENOENT/],
    ['truncated JSON', ['gradients', '--model', truncated, '--batch', join(tiny, 'batch.json')], /not valid JSON/],
    [
      'wrong shape',
      ['gradients', '--model', badModel, '--batch', join(tiny, 'batch.json')],
      /lstm\[0\]\.w: expected shape \[4\]\[1\]\[2\], got an array of length 1/,
    ],
    [
      'batch for another model',
      ['gradients', '--model', join(tiny, 'model.json'), '--batch', join(fixturesDir, 'multi', 'batch.json')],
      /batch\.x\[0\]: expected shape \[3\]\[1\], got an array of length 7/,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const { status, stdout, stderr } = await cli(
        ...args,
        ...(args[0] === 'train' && !args.includes('--backend') ? ['--backend', 'cpu'] : []),
      );
      expect(status).toBe(2);
      expect(stderr).toMatch(message);
      const errorLines = stderr.split('\n').filter((line) => line.startsWith('error:'));
      expect(errorLines).toHaveLength(1);
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(stdout).toBe('');
    });
  }
});
