// Reads a model file off the page's main thread (src/app/modelPanel.ts starts one per file and
// terminates it after the answer): the bounded reader of src/train/modelFile.ts, so a hostile file
// (deep nesting, millions of keys, a huge claimed model) costs the page nothing and is refused in
// one line. In: the File. Out: the Model, its arrays transferred, or the failure.

import { loadModel } from '../lib/files.js';
import { describeFailure } from './failure.js';
import { workerScope } from './workerJob.js';

workerScope.onmessage = async (event: MessageEvent<File>) => {
  const file = event.data;
  try {
    const model = loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
    const arrays = [model.params, model.optimizer?.slots];
    for (const member of model.members ?? []) arrays.push(member.params, member.optimizer?.slots);
    // Each buffer once: member 0 shares the top level's.
    const buffers = new Set(arrays.filter((a) => a !== undefined).map((a) => a.buffer));
    workerScope.postMessage({ type: 'result', result: model }, [...buffers]);
  } catch (err) {
    workerScope.postMessage({ type: 'error', failure: describeFailure(err) });
  }
};
