// `export --model FILE --format onnx|tfjs --out PATH` and `import --format tfjs DIR --out FILE`: a
// model file to ONNX (one file) or to a TensorFlow.js Layers model (a folder with model.json and
// weights.bin), and a TF.js Layers model (made here, in TF.js, or by Keras's converter) back into a
// model file. Every file is written atomically; nothing is written when anything is wrong.

import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TFJS_WEIGHTS_FILE } from '../export/tfjs.js';
import { importTfjs } from '../export/tfjsImport.js';
import { exportOnnx, exportTfjs } from '../lib/files.js';
import { InputError } from '../model/errors.js';
import { memberParams, modelFileBytes } from '../train/modelFile.js';
import { CLI_SETTINGS, commandOptions, EXPORT_FORMAT, EXPORT_OUT, IMPORT_FORMAT, IMPORT_OUT } from './commands.js';
import {
  checkWritablePath,
  noteMemberZero,
  readFileBytes,
  readJsonOption,
  readModelOption,
  writeFileAtomic,
} from './files.js';
import { option, parseCommandLine, parseOptions, requiredOption } from './options.js';

export function exportCommand(argv: string[], log: (line: string) => void): void {
  const values = parseOptions('export', argv, commandOptions('export'));
  const modelPath = requiredOption(values, CLI_SETTINGS.model);
  const format = option(values, EXPORT_FORMAT);
  const out = requiredOption(values, EXPORT_OUT);
  if (format === 'onnx') {
    checkWritablePath(out, '--out');
    const model = readModelOption(modelPath, '--model');
    const bytes = exportOnnx(model);
    writeFileAtomic(out, bytes, '--out');
    const members = memberParams(model).length;
    const ensemble = members > 1 ? `, an ensemble of ${members} members: their mean` : '';
    log(`wrote ${out} (ONNX, opset 17, ${bytes.length.toLocaleString('en')} bytes${ensemble})`);
    return;
  }
  const folder = outputFolder(out);
  const modelJsonPath = join(folder, 'model.json');
  checkWritablePath(modelJsonPath, '--out');
  const model = readModelOption(modelPath, '--model');
  noteMemberZero(
    model,
    (member) =>
      `a TF.js model (a plain stack of layers) gets ${member} alone, not the members' mean that predict forecasts with (--format onnx holds them all)`,
  );
  const { modelJson, weights } = exportTfjs(model);
  writeFileAtomic(join(folder, TFJS_WEIGHTS_FILE), weights, '--out');
  writeFileAtomic(modelJsonPath, `${JSON.stringify(modelJson)}\n`, '--out');
  log(`wrote ${modelJsonPath} and ${join(folder, TFJS_WEIGHTS_FILE)} (TensorFlow.js Layers model)`);
}

/** The folder `path` names, made if it is missing (its parent must exist); a file there is refused. */
function outputFolder(path: string): string {
  if (path === '') throw new InputError('--out', 'expected a folder name, got an empty one');
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(path);
  } catch {
    // Not there yet: made below.
  }
  if (stat !== undefined && !stat.isDirectory()) {
    throw new InputError(
      '--out',
      `"${path}" is a file; a TF.js model is written as a folder (model.json, weights.bin)`,
    );
  }
  if (stat === undefined) {
    try {
      fs.mkdirSync(path);
    } catch (err) {
      throw new InputError(
        '--out',
        `cannot make the folder "${path}" (${(err as NodeJS.ErrnoException).code ?? 'failed'}); its parent must exist`,
      );
    }
  }
  return path;
}

export function importCommand(argv: string[], log: (line: string) => void): void {
  const { values, positionals } = parseCommandLine('import', argv, commandOptions('import'), 1, 'folder (DIR)');
  option(values, IMPORT_FORMAT);
  const out = requiredOption(values, IMPORT_OUT);
  const [given] = positionals;
  if (given === undefined) {
    throw new InputError('import', 'expected the folder of a TF.js model (DIR, holding model.json), then --out FILE');
  }
  // DIR, or the model.json in it.
  const modelJsonPath = isDirectory(given) ? join(given, 'model.json') : given;
  const folder = dirname(resolve(modelJsonPath));
  checkWritablePath(out, '--out');
  const source = basename(modelJsonPath);
  const modelJson = readJsonOption(modelJsonPath, 'DIR');
  const model = importTfjs(
    modelJson,
    (path) => readFileBytes(join(folder, path), `DIR ${source} weightsManifest`),
    source,
  );
  writeFileAtomic(out, modelFileBytes(model, '--out').chunks(), '--out');
  const { inputSize, hiddenSizes, outputSize, window } = model.config;
  log(
    `wrote ${out}: ${[inputSize, ...hiddenSizes, outputSize].join(' → ')}, window ${window}${model.normalization ? ', with its normalisation' : ''}`,
  );
}

function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}
