// The CLI's populations: `train --members K` (each member the model its seed trains alone, the
// ensemble beside them, the ensemble saved and loaded back), `search` (every configuration, chosen on
// validation only, the chosen ensemble saved) and `bench --members` (member-steps per population).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTextFile } from '../src/cli/files.js';
import { modelFileBytes, readModelFile } from '../src/train/modelFile.js';
import { cli, temporaryFolder } from './helpers.js';

const tmp = temporaryFolder('webgpu-lstm-population-');

const QUICK = ['--backend', 'cpu', '--epochs', '6', '--report', '3', '--points', '60'];
const SHORT = [...QUICK, '--hidden', '6'];

describe('train --members', () => {
  it("trains K seeds together, each the model its seed trains alone on the run's data, and saves the ensemble", async () => {
    const save = join(tmp, 'ensemble.json');
    const together = await cli(['train', ...SHORT, '--members', '3', '--seed', '4', '--json', '--save', save]);
    expect(together.status, together.stderr).toBe(0);
    const report = JSON.parse(together.stdout);
    expect(report.members.map((m: { seed: number }) => m.seed)).toEqual([4, 5, 6]);
    expect(report.config.members).toBe(3);
    expect(report.memberStepsPerSecond).toBeGreaterThan(0);
    // Member 0 is the run's own seed: its fields are train --json's.
    expect(report.losses).toEqual(report.members[0].losses);
    const alone = JSON.parse((await cli(['train', ...SHORT, '--seed', '6', '--data-seed', '4', '--json'])).stdout);
    expect(report.members[2].losses).toEqual(alone.losses);
    expect(report.members[2].metrics).toEqual(alone.metrics);
    expect(report.ensemble.summary).toMatch(/RMSE/);
    expect(report.ensemble.metrics.train.rmse[0]).toBeGreaterThan(0);
    // The ensemble on disk: version 3, three members, member 0 at the top level.
    const model = readModelFile(JSON.parse(readTextFile(save, '--model')));
    expect(model.members?.map((m) => m.seed)).toEqual([4, 5, 6]);
    expect(model.params).toEqual(model.members?.[0].params);
    // Loaded, it goes on with all its members from their epochs.
    const more = await cli(['train', ...SHORT, '--load', save, '--epochs', '2', '--json']);
    expect(more.status, more.stderr).toBe(0);
    const continued = JSON.parse(more.stdout);
    expect(continued.members).toHaveLength(3);
    expect(continued.members[1].losses.slice(0, 6)).toEqual(report.members[1].losses);
    expect(continued.members[1].losses).toHaveLength(8);
    const wrong = await cli(['train', ...SHORT, '--load', save, '--members', '2']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/--members: the loaded model is an ensemble of 3 members/);
    // A model of one is not an ensemble: its other members would start afresh beside it.
    const one = join(tmp, 'one.json');
    expect((await cli(['train', ...SHORT, '--save', one])).status).toBe(0);
    const grown = await cli(['train', ...SHORT, '--load', one, '--members', '3']);
    expect(grown.status).toBe(2);
    expect(grown.stdout).toBe('');
    expect(grown.stderr).toBe(
      'error: --members: the loaded model is one model, not an ensemble: leave --members out to go on with it, or train 3 seeds afresh without --load\n',
    );
    // Exported: to ONNX every member and their mean; to TF.js member 0 alone, and it says so.
    const onnx = await cli(['export', '--model', save, '--out', join(tmp, 'ensemble.onnx')]);
    expect(onnx.status, onnx.stderr).toBe(0);
    expect(onnx.stderr).toMatch(
      /^wrote .*ensemble\.onnx \(ONNX, opset 17, [\d,]+ bytes, an ensemble of 3 members: their mean\)\n$/,
    );
    const tfjs = await cli(['export', '--model', save, '--format', 'tfjs', '--out', join(tmp, 'ensemble-tfjs')]);
    expect(tfjs.status, tfjs.stderr).toBe(0);
    expect(tfjs.stderr.split('\n')[0]).toBe(
      "note: the model file is an ensemble of 3 members; a TF.js model (a plain stack of layers) gets member 0 (seed 4) alone, not the members' mean that predict forecasts with (--format onnx holds them all)",
    );
    // Inside one network, and one member's gradients: each says which member.
    const inspected = await cli(['inspect', '--model', save]);
    expect(inspected.status, inspected.stderr).toBe(0);
    expect(inspected.stderr).toMatch(
      /^note: the model file is an ensemble of 3 members; inside member 0 \(seed 4\), one network of them$/m,
    );
    const batch = join(tmp, 'batch.json');
    writeFileSync(batch, JSON.stringify({ x: [Array.from({ length: 10 }, (_, t) => [t / 10])], t: [[0.5]] }));
    const gradients = await cli(['gradients', '--model', save, '--batch', batch, '--backend', 'cpu']);
    expect(gradients.status, gradients.stderr).toBe(0);
    expect(gradients.stderr).toMatch(
      /^note: the model file is an ensemble of 3 members; the gradients are member 0 \(seed 4\)'s$/m,
    );
    const single = join(tmp, 'single.json');
    expect((await cli(['train', ...SHORT, '--save', single])).status).toBe(0);
    const plain = await cli(['export', '--model', single, '--format', 'tfjs', '--out', join(tmp, 'single-tfjs')]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^wrote .*model\.json/);
    expect(plain.stderr).not.toMatch(/note/);
  });
});

describe('train --members with members that diverge', () => {
  // A held-out part (--split 0.8), so the ensemble's forecasts from its origins are scored too.
  const args = ['--backend', 'cpu', '--report', '1', '--points', '60', '--hidden', '6', '--split', '0.8'];

  /** An ensemble of 3 whose members `poisoned` have a dense layer of 3e38: their outputs overflow, they diverge. */
  async function ensembleWith(name: string, poisoned: number[]): Promise<string> {
    const base = join(tmp, `${name}-base.json`);
    expect((await cli(['train', ...args, '--epochs', '2', '--members', '3', '--save', base])).status).toBe(0);
    const model = readModelFile(JSON.parse(readTextFile(base, '--model')));
    const { dense } = model.layout;
    for (const m of poisoned) model.members?.[m].params.fill(3e38, dense.w, dense.b + model.config.outputSize);
    const path = join(tmp, `${name}.json`);
    writeFileSync(path, Buffer.concat([...modelFileBytes(model).chunks()].map((chunk) => Buffer.from(chunk))));
    return path;
  }

  it('leaves them out of the ensemble, its errors, its forecasts and the saved file', async () => {
    const save = join(tmp, 'without-diverged.json');
    const load = await ensembleWith('one-poisoned', [1]);
    const result = await cli([
      'train',
      ...args,
      '--load',
      load,
      '--epochs',
      '2',
      '--lr',
      '0.01',
      '--json',
      '--save',
      save,
    ]);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.members.map((m: { diverged: unknown }) => m.diverged !== null)).toEqual([false, true, false]);
    expect(report.ensemble.seeds).toEqual([0, 2]);
    expect(report.heldOutForecasts.members).toBe(2);
    // The mean of the two: its RMSE at most theirs on average (the RMSE of a mean is at most the mean
    // of the RMSEs), where the diverged member's would swamp it.
    const rmse = (metrics: { train: { rmse: number[] } }) => metrics.train.rmse[0];
    const healthy = [report.members[0], report.members[2]];
    expect(rmse(report.ensemble.metrics)).toBeLessThanOrEqual(
      (rmse(healthy[0].metrics) + rmse(healthy[1].metrics)) / 2,
    );
    expect(readModelFile(JSON.parse(readTextFile(save, '--model'))).members?.map((m) => m.seed)).toEqual([0, 2]);
  });

  it('saves one member left as a model of one, and takes all of them where every one diverged', async () => {
    const lone = join(tmp, 'lone.json');
    const two = await ensembleWith('two-poisoned', [1, 2]);
    const one = await cli(['train', ...args, '--load', two, '--epochs', '2', '--lr', '0.01', '--json', '--save', lone]);
    expect(one.status, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout).ensemble.seeds).toEqual([0]);
    const saved = readModelFile(JSON.parse(readTextFile(lone, '--model')));
    expect(saved.members).toBeUndefined();
    // Every member diverged: the ensemble is all of them, and the exit status says so.
    const all = await cli(['train', ...args, '--members', '3', '--epochs', '6', '--lr', '50', '--json']);
    expect(all.status).toBe(3);
    expect(JSON.parse(all.stdout).ensemble.seeds).toEqual([0, 1, 2]);
  });
});

describe('search', () => {
  it('trains every configuration with every seed, chooses on validation only, and saves the chosen ensemble', async () => {
    const save = join(tmp, 'chosen.json');
    const { status, stdout, stderr } = await cli([
      'search',
      ...QUICK,
      '--lr',
      '0.003,0.03',
      '--hidden',
      '4,8',
      '--seeds',
      '2',
      '--json',
      '--save',
      save,
    ]);
    expect(status, stderr).toBe(0);
    // The generated series has no validation part by default: the search makes one and says so.
    expect(stderr).toMatch(/a search chooses on a validation part/);
    const result = JSON.parse(stdout);
    expect(result.configurations.map((c: { lr: number; hidden: number[] }) => [c.lr, c.hidden[0]])).toEqual([
      [0.003, 4],
      [0.03, 4],
      [0.003, 8],
      [0.03, 8],
    ]);
    for (const c of result.configurations) {
      expect(c.seeds).toEqual([0, 1]);
      const values = c.members.map((m: { validation: number }) => m.validation);
      expect(c.validation.mean).toBeCloseTo((values[0] + values[1]) / 2, 12);
    }
    const means = result.configurations.map((c: { validation: { mean: number } }) => c.validation.mean);
    expect(result.chosen.index).toBe(means.indexOf(Math.min(...means)));
    expect(result.chosen.reason).toMatch(/test part was not used to choose/);
    const chosen = result.configurations[result.chosen.index];
    const model = readModelFile(JSON.parse(readTextFile(save, '--model')));
    expect(model.members).toHaveLength(2);
    expect(model.config.hiddenSizes).toEqual(chosen.hidden);
    expect(model.settings?.lr).toBe(chosen.lr);
  });

  it('scores and saves the chosen configuration without its seeds that diverged', async () => {
    const save = join(tmp, 'chosen-without-diverged.json');
    const search = ['search', '--backend', 'cpu', '--epochs', '6', '--report', '1', '--points', '60', '--hidden', '6'];
    const { status, stdout, stderr } = await cli([...search, '--lr', '0.5', '--seeds', '6', '--json', '--save', save]);
    expect(status, stderr).toBe(0);
    const result = JSON.parse(stdout);
    const members: { diverged: boolean }[] = result.configurations[result.chosen.index].members;
    const healthy = [0, 1, 2, 3, 4, 5].filter((seed) => !members[seed].diverged);
    // Here seed 2 diverges at this rate. Which seeds do this close to the edge is the kernels'
    // rounding's, so the relations are checked, not the count.
    console.log(`search: ${6 - healthy.length} of 6 seeds diverged`);
    expect(result.ensemble.seeds).toEqual(healthy);
    expect(result.ensemble.heldOutForecasts.members).toBe(healthy.length);
    const model = readModelFile(JSON.parse(readTextFile(save, '--model')));
    expect(model.members?.map((m) => m.seed) ?? [model.settings?.seed]).toEqual(healthy);
  });

  it('refuses a list value outside the training setting’s bounds, naming the option', async () => {
    const { status, stderr } = await cli(['search', '--lr', '0.01,-1']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/^error: --lr: /);
  });
});

describe('bench --members', () => {
  it('times populations: member-steps per second and the members per case', async () => {
    const { status, stdout, stderr } = await cli([
      'bench',
      '--backend',
      'cpu',
      '--hidden',
      '8',
      '--batch',
      '4',
      '--members',
      '1,3',
      '--steps',
      '2',
      '--repetitions',
      '1',
      '--json',
    ]);
    expect(status, stderr).toBe(0);
    const { results } = JSON.parse(stdout);
    expect(results.map((r: { members: number }) => r.members)).toEqual([1, 3]);
    for (const r of results) expect(r.memberStepsPerSecond).toBeCloseTo(r.members * r.stepsPerSecond, 6);
  });
});
