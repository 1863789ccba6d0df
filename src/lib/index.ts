// The library's public API (docs/API.md), for a browser and, through node.ts, for Node: open a
// backend, prepare data, train with progress and an abort signal, predict, forecast, save and load
// model files, export to ONNX and TF.js. CSV texts and the bundled series are read by the `/csv`
// entry point (csv.ts), which carries a CSV parser that this one leaves out.

export { InputError } from '../model/errors.js';
export { BACKEND_CHOICES, type BackendChoice } from './backends.js';
export { type ArraysOptions, fromArrays, type LstmData } from './data.js';
export {
  exportOnnx,
  exportTfjs,
  importTfjs,
  loadModel,
  type Model,
  type ModelFile,
  modelToJson,
  saveModel,
  type TfjsModelJson,
} from './files.js';
export { type Band, type Forecast, type ForecastSettings, forecast, type Predictions, predict } from './predict.js';
export { type LstmBackend, openBackend, type Trained, type TrainProgress, type TrainSettings, train } from './train.js';
