// `gradients --model FILE --batch FILE`: one forward and backward pass, no update. Prints
// {"loss", "y", "grads"} with grads in the model file's nested layout.

import { readBatchFile } from '../data/dataset.js';
import { InputError } from '../model/errors.js';
import { checkFloat32Tree } from '../model/validate.js';
import { toNested } from '../train/modelFile.js';
import { openBackend } from './backends.js';
import { BATCH_FILE, CLI_SETTINGS, commandOptions } from './commands.js';
import { noteMemberZero, readJsonOption, readModelOption } from './files.js';
import { option, parseOptions, requiredOption } from './options.js';

export async function gradientsCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const values = parseOptions('gradients', argv, commandOptions('gradients'));
  const modelPath = requiredOption(values, CLI_SETTINGS.model);
  const batchPath = requiredOption(values, BATCH_FILE);
  const choice = option(values, CLI_SETTINGS.backend);
  const model = readModelOption(modelPath, '--model');
  noteMemberZero(model, (member) => `the gradients are ${member}'s`);
  const batch = readBatchFile(readJsonOption(batchPath, '--batch'), model.config);
  const { backend, note, close } = await openBackend(choice, model.layout, batch.count);
  log(note);
  try {
    backend.setParams(model.params);
    const result = await backend.gradients(batch.x, batch.t, batch.count);
    const O = model.config.outputSize;
    const y = Array.from({ length: batch.count }, (_, b) => Array.from(result.y.subarray(b * O, (b + 1) * O)));
    const output = { loss: result.loss, y, grads: toNested(model.layout, result.grads) };
    // JSON has no Infinity or NaN (it would print null): say which value overflowed instead.
    const overflowed = "JSON cannot hold it; the model's weights are too large for this batch";
    if (!Number.isFinite(output.loss)) throw new InputError('loss', `is ${output.loss}; ${overflowed}`);
    checkFloat32Tree({ y: output.y, grads: output.grads }, '', overflowed);
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } finally {
    close();
  }
}
