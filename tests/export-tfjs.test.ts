// The TensorFlow.js export loaded by tf.loadLayersModel (through its own HTTP loader, served from
// memory) and run against our forward pass on the gradient fixtures' shapes; the metadata's scaling
// applied to its outputs against our prediction in the data's units; the import of a model made in
// TF.js (and of the same model as Keras's converter lays it out) predicting as TF.js does; ours →
// TF.js → ours giving the same weights; and the import refusing what it cannot read, by name.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportTfjs, TFJS_METADATA_KEY, type TfjsModelJson } from '../src/export/tfjs.js';
import { importTfjs } from '../src/export/tfjsImport.js';
import { InputError } from '../src/model/errors.js';
import { type Model, readModelFile } from '../src/train/modelFile.js';
import { FIXTURE_CASES, namedCase, ourPrediction, relativeDifference } from './export-cases.js';
import { cli, fixturesDir } from './helpers.js';

const RTOL = 1e-5;
const measured: string[] = [];
/** What TF.js logged since the last look (console.warn and console.error). */
const logged: string[] = [];

beforeAll(async () => {
  // The CPU backend first, and one op on it: TF.js says once, on its first op in Node, that
  // tfjs-node would be faster (about the runtime, not about a file).
  await tf.setBackend('cpu');
  tf.tidy(() => tf.scalar(1).add(1).dataSync());
  for (const method of ['warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
  }
});

afterAll(() => {
  vi.restoreAllMocks();
  console.log(`max relative difference, TF.js vs ours:\n${measured.join('\n')}`);
});

/** Loads model.json and its weights as a browser would, over a fetch that serves `files`. */
async function load(files: Record<string, string | Uint8Array>): Promise<tf.LayersModel> {
  const fetchFunc = async (url: string | URL | Request) => {
    const name = (url instanceof Request ? url.url : String(url)).replace('https://example.test/model/', '');
    const body = files[name];
    if (body === undefined) return new Response('missing', { status: 404 });
    return new Response(typeof body === 'string' ? body : body.slice().buffer);
  };
  return tf.loadLayersModel(tf.io.http('https://example.test/model/model.json', { fetchFunc }));
}

function filesOf(modelJson: TfjsModelJson, weights: Uint8Array) {
  return { 'model.json': JSON.stringify(modelJson), 'weights.bin': weights };
}

/** TF.js's prediction (B, O) for normalized windows (B, T, I). */
function predict(layers: tf.LayersModel, x: Float32Array, model: Model, B: number): Float32Array {
  const { inputSize: I, window: T } = model.config;
  return tf.tidy(() => (layers.predict(tf.tensor3d(x, [B, T, I])) as tf.Tensor).dataSync() as Float32Array);
}

describe('TF.js export in TensorFlow.js', () => {
  it.each(FIXTURE_CASES)('%s: loads without a warning and predicts as our forward pass', async (name) => {
    const { model, raw, B } = namedCase(name);
    const { modelJson, weights } = exportTfjs(model);
    logged.length = 0;
    const layers = await load(filesOf(modelJson, weights));
    const ours = ourPrediction(model, raw, B);
    // The metadata's scaling, applied to the data's values as docs/FILE-FORMATS.md tells a caller to.
    const meta = layers.getUserDefinedMetadata() as Record<string, Record<string, number[]>>;
    const { inputOffset, inputScale, outputOffset, outputScale } = meta[TFJS_METADATA_KEY];
    const { inputSize: I, outputSize: O } = model.config;
    const x = Float32Array.from(raw, (v, p) => (v - inputOffset[p % I]) / inputScale[p % I]);
    const theirs = predict(layers, x, model, B);
    expect(logged).toEqual([]);
    const worst = relativeDifference(theirs, ours.normalized);
    const levels = theirs.map((y, p) => y * outputScale[p % O] + outputOffset[p % O]);
    const worstLevels = relativeDifference(levels, ours.levels);
    measured.push(
      `  ${name}: normalized ${worst.toExponential(2)}, in the data's units ${worstLevels.toExponential(2)}`,
    );
    expect(worst).toBeLessThanOrEqual(RTOL);
    expect(worstLevels).toBeLessThanOrEqual(RTOL);
    layers.dispose();
  });

  it('states the layers TF.js needs: sigmoid recurrent activation, return_sequences below the top LSTM', async () => {
    const { modelJson } = exportTfjs(namedCase('stacked').model);
    const layers = modelJson.modelTopology.config.layers;
    expect(layers.map((l) => l.class_name)).toEqual(['LSTM', 'LSTM', 'Dense']);
    expect(layers.map((l) => l.config.return_sequences)).toEqual([true, false, undefined]);
    expect(layers[0].config).toMatchObject({
      recurrent_activation: 'sigmoid',
      activation: 'tanh',
      batch_input_shape: [null, 6, 2],
    });
  });
});

describe('TF.js import', () => {
  it.each(FIXTURE_CASES)('%s: ours → TF.js → ours gives the same weights, normalization and data', async (name) => {
    const { model } = namedCase(name, name === 'stacked' ? 'differences' : 'levels');
    const { modelJson, weights } = exportTfjs(model);
    const back = importTfjs(JSON.parse(JSON.stringify(modelJson)), (path) => {
      expect(path).toBe('weights.bin');
      return weights;
    });
    expect(back.config).toEqual(model.config);
    expect(back.params).toEqual(model.params);
    expect(back.normalization).toEqual(model.normalization);
    expect(back.data).toEqual(model.data);
  });

  /** A stacked model made in TF.js, saved as TF.js saves it: model.json's parts and the weights' bytes. */
  async function madeInTfjs() {
    const made = tf.sequential();
    made.add(tf.layers.lstm({ units: 5, returnSequences: true, inputShape: [4, 3], recurrentActivation: 'sigmoid' }));
    made.add(tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid' }));
    made.add(tf.layers.dense({ units: 2 }));
    // Weights of our choosing (TF.js's initializers draw anew each run), biases included.
    made.setWeights(
      made.getWeights().map((w, i) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, (_, p) => 0.6 * Math.sin(1.7 * p + i)),
          w.shape,
        ),
      ),
    );
    let artifacts: tf.io.ModelArtifacts | undefined;
    await made.save(
      tf.io.withSaveHandler(async (saved) => {
        artifacts = saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const { modelTopology, weightSpecs, weightData } = artifacts!;
    const bytes = new Uint8Array(weightData as ArrayBuffer);
    const x = Float32Array.from({ length: 6 * 4 * 3 }, (_, p) => Math.sin(p * 1.3) * 2);
    const theirs = tf.tidy(() => (made.predict(tf.tensor3d(x, [6, 4, 3])) as tf.Tensor).dataSync() as Float32Array);
    made.dispose();
    return { modelTopology, weightSpecs: weightSpecs!, bytes, x, theirs };
  }

  it('a model made in TF.js predicts here as it did there', async () => {
    const { modelTopology, weightSpecs, bytes, x, theirs } = await madeInTfjs();
    const modelJson = {
      format: 'layers-model',
      modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weightSpecs }],
    };
    const model = importTfjs(modelJson, () => bytes);
    expect(model.config).toEqual({ inputSize: 3, hiddenSizes: [5, 3], outputSize: 2, window: 4 });
    const ours = ourPrediction(model, Float64Array.from(x), 6);
    const worst = relativeDifference(ours.normalized, theirs);
    measured.push(`  made in TF.js, imported: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(RTOL);
  });

  it('reads the layout of Keras’s converter: model_config, an InputLayer, weights under lstm_cell, two shards', async () => {
    const { modelTopology, weightSpecs, bytes, x, theirs } = await madeInTfjs();
    const topology = modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    const [first] = topology.config.layers;
    const { batch_input_shape: shape, ...rest } = first.config;
    first.config = rest;
    topology.config.layers.unshift({ class_name: 'InputLayer', config: { name: 'input_1', batch_input_shape: shape } });
    const renamed = weightSpecs.map((spec) => ({
      ...spec,
      name: spec.name.startsWith('lstm') ? spec.name.replace('/', '/lstm_cell/') : spec.name,
    }));
    const half = 40;
    const shards: Record<string, Uint8Array> = {
      'group1-shard1of2.bin': bytes.slice(0, half),
      'group1-shard2of2.bin': bytes.slice(half),
    };
    const modelJson = {
      format: 'layers-model',
      modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: topology },
      weightsManifest: [{ paths: Object.keys(shards), weights: renamed }],
    };
    const model = importTfjs(modelJson, (path) => shards[path]);
    const worst = relativeDifference(ourPrediction(model, Float64Array.from(x), 6).normalized, theirs);
    expect(worst).toBeLessThanOrEqual(RTOL);
  });

  /** The fixture `stacked` exported, its model.json changed by `edit`, imported: the InputError's message. */
  function refusal(edit: (json: TfjsModelJson) => void, weights?: Uint8Array): string {
    const exported = exportTfjs(namedCase('stacked').model);
    const json = JSON.parse(JSON.stringify(exported.modelJson)) as TfjsModelJson;
    edit(json);
    try {
      importTfjs(json, () => weights ?? exported.weights);
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      return (err as Error).message;
    }
    throw new Error('the import did not refuse');
  }

  it('refuses what it cannot read, naming the layer or field', async () => {
    const layers = (json: TfjsModelJson) => json.modelTopology.config.layers;
    expect(
      refusal((j) => layers(j).splice(1, 0, { class_name: 'Dropout', config: { name: 'dropout_1', rate: 0.2 } })),
    ).toMatch(/layers\[1\]\.class_name: "Dropout" \(layer "dropout_1"\) is not supported/);
    expect(refusal((j) => (layers(j)[0].class_name = 'GRU'))).toMatch(/"GRU" \(layer "lstm_1"\) is not supported/);
    expect(refusal((j) => (layers(j)[0].config.recurrent_activation = 'hard_sigmoid'))).toMatch(
      /layers\[0\]\.config\.recurrent_activation: expected "sigmoid".*got "hard_sigmoid"/,
    );
    expect(refusal((j) => (layers(j)[1].config.go_backwards = true))).toMatch(
      /layers\[1\]\.config\.go_backwards: expected false/,
    );
    expect(refusal((j) => (layers(j)[0].config.return_sequences = false))).toMatch(
      /layers\[0\]\.config\.return_sequences: expected true/,
    );
    expect(refusal((j) => (layers(j)[2].config.activation = 'relu'))).toMatch(
      /layers\[2\]\.config\.activation: expected "linear"/,
    );
    expect(refusal((j) => (layers(j)[0].config.batch_input_shape = [null, null, 2]))).toMatch(
      /window \(time steps\) is not fixed/,
    );
    expect(refusal((j) => (j.modelTopology.class_name = 'Functional' as 'Sequential'))).toMatch(
      /class_name: expected "Sequential"/,
    );
    expect(refusal((j) => (j.weightsManifest[0].paths = ['../secret.bin']))).toMatch(
      /paths\[0\]: expected a file name beside model\.json/,
    );
    expect(refusal((j) => ((j.weightsManifest[0].weights[0] as { dtype: string }).dtype = 'float16'))).toMatch(
      /dtype: expected "float32"/,
    );
    expect(refusal(() => {}, new Uint8Array(12))).toMatch(/hold 12 bytes, fewer than/);
    expect(refusal((j) => (j.weightsManifest[0].weights[2].name = 'other/bias'))).toMatch(
      /has no bias for layer "lstm_1"/,
    );
    expect(refusal((j) => (j.format = 'graph-model' as 'layers-model'))).toMatch(/format: expected "layers-model"/);
    expect(
      refusal((j) => {
        (j.userDefinedMetadata[TFJS_METADATA_KEY] as { normalisation: { scale: number[] } }).normalisation.scale[0] = 0;
      }),
    ).toMatch(/userDefinedMetadata\["webgpu-lstm"\]\.normalisation\.scale\[0\]/);
  });
});

describe('export and import on the command line', () => {
  const work = mkdtempSync(join(tmpdir(), 'webgpu-lstm-tfjs-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('export --format tfjs then import gives the model file’s weights back', async () => {
    const model = join(fixturesDir, 'stacked', 'model.json');
    const folder = join(work, 'stacked-tfjs');
    const exported = await cli(['export', '--model', model, '--format', 'tfjs', '--out', folder]);
    expect(exported.stderr).toMatch(/wrote .*model\.json and .*weights\.bin/);
    expect(exported.status).toBe(0);
    const back = join(work, 'back.json');
    const imported = await cli(['import', '--format', 'tfjs', folder, '--out', back]);
    expect(imported.status).toBe(0);
    const original = readModelFile(JSON.parse(readFileSync(model, 'utf8')));
    const result = readModelFile(JSON.parse(readFileSync(back, 'utf8')));
    expect(result.config).toEqual(original.config);
    expect(Array.from(result.params)).toEqual(Array.from(original.params));
  });

  it('import refuses an unsupported layer by name, and writes nothing', async () => {
    const folder = join(work, 'gru');
    const { modelJson, weights } = exportTfjs(namedCase('tiny').model);
    modelJson.modelTopology.config.layers[0].class_name = 'GRU';
    mkdirSync(folder);
    writeFileSync(join(folder, 'model.json'), JSON.stringify(modelJson));
    writeFileSync(join(folder, 'weights.bin'), weights);
    const out = join(work, 'never.json');
    const result = await cli(['import', folder, '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /^error: model\.json modelTopology\.config\.layers\[0\]\.class_name: "GRU" \(layer "lstm_1"\) is not supported/,
    );
    expect(() => readFileSync(out)).toThrow();
  });
});
