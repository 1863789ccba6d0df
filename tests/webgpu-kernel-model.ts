// A whole model's training step built from kernels run through the harness (webgpu-kernel-harness.ts),
// and the CPU reference (src/backends/cpu/lstm.ts) of the same step, so each new recurrence kernel is
// checked where it sits: the existing input projection, dense layer and weight and input gradients
// around the forward and backward steps under test; or the fused kernels alone.
//
// Legend: B = batch, C = workspace capacity (B plus some, so state_row's offsets are exercised),
//         T = window, I = layer input size, H = hidden size, S = H + I + 1, O = outputs, P = parameters.

import denseSource from '../shaders/dense.wgsl?raw';
import gateRowsSource from '../shaders/gate_rows.wgsl?raw';
import inputGradientsSource from '../shaders/input_gradients.wgsl?raw';
import inputProjectionSource from '../shaders/input_projection.wgsl?raw';
import backwardSource from '../shaders/lstm_backward.wgsl?raw';
import coalescedBackwardSource from '../shaders/lstm_backward_coalesced.wgsl?raw';
import tiledBackwardSource from '../shaders/lstm_backward_tiled.wgsl?raw';
import cellSource from '../shaders/lstm_cell.wgsl?raw';
import forwardSource from '../shaders/lstm_forward.wgsl?raw';
import tiledForwardSource from '../shaders/lstm_forward_tiled.wgsl?raw';
import fusedGradientsSource from '../shaders/lstm_fused_gradients.wgsl?raw';
import fusedRowsSource from '../shaders/lstm_fused_rows.wgsl?raw';
import matmulSource from '../shaders/matmul.wgsl?raw';
import optimizerUpdateSource from '../shaders/optimizer_update.wgsl?raw';
import outputsSource from '../shaders/outputs.wgsl?raw';
import transposeSource from '../shaders/recurrent_transpose.wgsl?raw';
import weightGradientsSource from '../shaders/weight_gradients.wgsl?raw';
import workgroupSumSource from '../shaders/workgroup_sum.wgsl?raw';
import { backward, forward, loss, Workspace } from '../src/backends/cpu/lstm.js';
import {
  type FusedMode,
  type FusedPlan,
  fusedGradientsConstants,
  fusedRowsConstants,
  gradientWorkgroups,
} from '../src/backends/webgpu/fusedStep.js';
import { MEMBER_SETTINGS_WORDS, writeMemberSettings } from '../src/backends/webgpu/optimizerUpdate.js';
import { type RecurrenceTile, tileConstants, transposePlan } from '../src/backends/webgpu/recurrenceTiling.js';
import { denseOutputsLength } from '../src/backends/webgpu/workspace.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { GATES, type ModelConfig, type ParamLayout, paramLayout } from '../src/model/layout.js';
import { DEFAULT_OPTIMIZER } from '../src/model/optimizer.js';
import { maxAbsDiff, tensorErrors } from './helpers.js';
import type { HarnessDispatch, KernelHarness } from './webgpu-kernel-harness.js';

/** The sources of each kernel: its own file first, then the libraries it calls. */
export const SOURCES = {
  inputProjection: [inputProjectionSource, matmulSource],
  forward: [forwardSource, cellSource],
  tiledForward: [tiledForwardSource, forwardSource, cellSource],
  dense: [denseSource, outputsSource],
  backward: [backwardSource, cellSource],
  coalescedBackward: [coalescedBackwardSource, backwardSource, cellSource],
  tiledBackward: [tiledBackwardSource, backwardSource, cellSource],
  transpose: [transposeSource],
  weightGradients: [weightGradientsSource, matmulSource],
  inputGradients: [inputGradientsSource, matmulSource],
  fusedRows: [fusedRowsSource, cellSource, gateRowsSource, outputsSource],
  fusedGradients: [fusedGradientsSource, gateRowsSource, outputsSource],
  optimizerUpdate: [optimizerUpdateSource, workgroupSumSource],
} as const;

export interface KernelCase {
  config: ModelConfig;
  batch: number;
  seed: number;
  /** The mean squared error instead of the blog's half sum of squares. */
  meanLoss?: boolean;
}

export interface ReferenceStep {
  layout: ParamLayout;
  batch: number;
  meanLoss: boolean;
  params: Float32Array;
  /** (B, T, I) */
  x: Float32Array;
  /** (B, O) */
  t: Float32Array;
  loss: number;
  /** (B, O) */
  out: Float32Array;
  grads: Float32Array;
  /** The CPU workspace after forward and backward: per layer gates (T, B, 4H), c (T+1, B, H). */
  workspace: Workspace;
}

/** A random model and batch (biases too, so every path is exercised), and the CPU's step on them. */
export function referenceStep({ config, batch, seed, meanLoss = false }: KernelCase): ReferenceStep {
  const layout = paramLayout(config);
  const rng = new Rng(seed);
  const params = initParams(layout, rng);
  for (const layer of layout.layers) {
    for (let j = 0; j < GATES * layer.hiddenSize; j++) params[layer.b + j] = 0.3 * rng.normal();
  }
  for (let o = 0; o < config.outputSize; o++) params[layout.dense.b + o] = 0.3 * rng.normal();
  const x = Float32Array.from({ length: batch * config.window * config.inputSize }, () => rng.normal());
  const t = Float32Array.from({ length: batch * config.outputSize }, () => rng.normal());
  const workspace = new Workspace(layout, batch);
  forward(params, workspace, x, batch);
  const scale = meanLoss ? 2 / (batch * config.outputSize) : 1;
  const value = scale * loss(workspace, t, batch, scale);
  const grads = new Float32Array(layout.size);
  backward(params, grads, workspace, batch);
  return {
    layout,
    batch,
    meanLoss,
    params,
    x,
    t,
    loss: value,
    out: workspace.out.slice(0, batch * config.outputSize),
    grads,
    workspace,
  };
}

interface LayerBuffers {
  gates: GPUBuffer;
  c: GPUBuffer;
  inputs: GPUBuffer;
  delta: GPUBuffer;
  dInput: GPUBuffer | null;
}

/** The reference step's model and batch in GPU buffers laid out as the backend's workspace. */
export interface GpuModel {
  harness: KernelHarness;
  reference: ReferenceStep;
  capacity: number;
  params: GPUBuffer;
  grads: GPUBuffer;
  samples: GPUBuffer;
  targets: GPUBuffer;
  order: GPUBuffer;
  layers: LayerBuffers[];
  dc: GPUBuffer;
  dyTop: GPUBuffer;
  outputs: GPUBuffer;
  noLayerAbove: GPUBuffer;
  recurrentTransposed: GPUBuffer;
  transposeLayers: GPUBuffer;
  batchPass: GPUBuffer;
  step: GPUBuffer;
  /** The update's: MemberSettings (SGD, the learning rate), and what SGD without clipping leaves unused. */
  memberSettings: GPUBuffer;
  unusedUpdateBuffers: GPUBuffer[];
}

/** Rows the workspace has beyond the batch: state_row must skip them. */
const SPARE_ROWS = 3;

export function uploadModel(harness: KernelHarness, reference: ReferenceStep): GpuModel {
  const { layout, batch } = reference;
  const { window: T, outputSize: O } = layout.config;
  const C = batch + SPARE_ROWS;
  const layers = layout.layers.map(({ inputSize: I, hiddenSize: H }, l) => {
    const S = H + I + 1;
    const rows = new Float32Array((T + 1) * C * S);
    for (let r = 0; r < (T + 1) * C; r++) rows[r * S + S - 1] = 1;
    return {
      gates: harness.storage(`lstm[${l}] gates`, T * C * GATES * H),
      c: harness.storage(`lstm[${l}] c`, (T + 1) * C * H),
      inputs: harness.storage(`lstm[${l}] inputs`, rows),
      delta: harness.storage(`lstm[${l}] delta`, T * C * GATES * H),
      dInput: l === 0 ? null : harness.storage(`lstm[${l}] dInput`, T * C * I),
    };
  });
  const plan = transposePlan(layout, harness.device.limits.maxComputeWorkgroupsPerDimension);
  // One member's block (its header: the loss, and the pass's rows as its error rows), then its loss.
  const outputs = new Float32Array(denseOutputsLength(C, O) + 1);
  outputs[0] = reference.meanLoss ? 1 : 0;
  new Uint32Array(outputs.buffer)[1] = batch;
  const settings = new Uint32Array(MEMBER_SETTINGS_WORDS);
  writeMemberSettings(settings, 0, DEFAULT_OPTIMIZER, LEARNING_RATE, 1);
  return {
    harness,
    reference,
    capacity: C,
    params: harness.storage('params', reference.params),
    grads: harness.storage('grads', layout.size),
    samples: harness.storage('samples', reference.x),
    targets: harness.storage('targets', reference.t),
    order: harness.storage(
      'order',
      Uint32Array.from({ length: batch }, (_, b) => b),
    ),
    layers,
    dc: harness.storage('dc', C * Math.max(...layout.config.hiddenSizes)),
    dyTop: harness.storage('dyTop', C * layout.dense.inputSize),
    outputs: harness.storage('outputs', outputs),
    noLayerAbove: harness.storage('no layer above', 4),
    recurrentTransposed: harness.storage('recurrent transposed', plan.transposedSize),
    transposeLayers: harness.storage('transpose layers', plan.table),
    batchPass: harness.passUniform(batch, C),
    step: harness.stepUniform(T),
    memberSettings: harness.storage('member settings', settings),
    unusedUpdateBuffers: [0, 1, 2].map((n) => harness.storage(`unused update buffer ${n}`, 4)),
  };
}

const LEARNING_RATE = 0.01;
/** Invocations a workgroup of the update (SUM_WORKGROUP in workgroup_sum.wgsl). */
const UPDATE_WORKGROUP = 64;

/** The existing SGD update over every parameter (optimizer_update.wgsl): one dispatch. */
export function updateDispatch(model: GpuModel, paramsPerInvocation: number): HarnessDispatch {
  const { harness } = model;
  const P = model.reference.layout.size;
  const kernel = harness.kernel('update', [...SOURCES.optimizerUpdate], 'update', { PARAM_COUNT: P });
  return {
    kernel,
    bindGroup: harness.bindGroup(kernel, {
      params: model.params,
      grads: model.grads,
      firstState: model.unusedUpdateBuffers[0],
      secondState: model.unusedUpdateBuffers[1],
      gradSquares: model.unusedUpdateBuffers[2],
      corrections: model.unusedUpdateBuffers[2],
      members: model.memberSettings,
      batchPass: model.batchPass,
    }),
    workgroups: [Math.ceil(P / (UPDATE_WORKGROUP * paramsPerInvocation)), 1],
  };
}

export type ForwardVariant =
  | { kind: 'register-step'; workgroup: number }
  | { kind: 'register-persistent'; workgroup: number }
  | { kind: 'tiled'; tile: (hidden: number) => RecurrenceTile };

export type BackwardVariant =
  | { kind: 'register-step'; workgroup: number }
  | { kind: 'register-persistent'; workgroup: number }
  | { kind: 'coalesced-step'; workgroup: number; transpose: TransposeEntry }
  | { kind: 'coalesced-persistent'; workgroup: number; transpose: TransposeEntry }
  | { kind: 'tiled'; tile: (hidden: number) => RecurrenceTile };

/** The Vᵀ refresh's entry points: 32 x 32 tiles through workgroup memory, or a value an invocation. */
export type TransposeEntry = 'tiles' | 'elements';

const MATMUL_TILE = 32;
const MATMUL_ENTRY = 'matmul_registers';

function matmulGrid(rows: number, cols: number): [number, number] {
  return [Math.ceil(cols / MATMUL_TILE), Math.ceil(rows / MATMUL_TILE)];
}

/** The forward pass of every layer (input projection, then the variant's recurrence), then the dense layer. */
export function forwardDispatches(model: GpuModel, variant: ForwardVariant): HarnessDispatch[] {
  const { harness, reference } = model;
  const { layout, batch } = reference;
  const T = layout.config.window;
  const top = layout.layers.length - 1;
  const dispatches: HarnessDispatch[] = [];
  layout.layers.forEach((layer, l) => {
    const { inputSize: I, hiddenSize: H } = layer;
    const buffers = model.layers[l];
    const projection = harness.kernel('input projection', [...SOURCES.inputProjection], MATMUL_ENTRY, {
      WINDOW: T,
      PARAM_COUNT: layout.size,
      INPUT_SIZE: I,
      HIDDEN_SIZE: H,
      W_OFFSET: layer.w,
      BIAS_OFFSET: layer.b,
      GATHER_SAMPLES: l === 0 ? 1 : 0,
    });
    dispatches.push({
      kernel: projection,
      bindGroup: harness.bindGroup(projection, {
        params: model.params,
        samples: model.samples,
        order: model.order,
        inputs: buffers.inputs,
        gates: buffers.gates,
        batchPass: model.batchPass,
      }),
      workgroups: matmulGrid(T * batch, GATES * H),
    });
    const constants = {
      WINDOW: T,
      PARAM_COUNT: layout.size,
      INPUT_SIZE: I,
      HIDDEN_SIZE: H,
      V_OFFSET: layer.v,
      ABOVE_HIDDEN_SIZE: l < top ? layout.layers[l + 1].hiddenSize : 0,
    };
    const buffersByName = {
      params: model.params,
      gates: buffers.gates,
      c: buffers.c,
      inputs: buffers.inputs,
      above: l < top ? model.layers[l + 1].inputs : model.noLayerAbove,
      batchPass: model.batchPass,
      step: model.step,
    };
    const items = Math.ceil(batch / 4) * H;
    if (variant.kind === 'tiled') {
      const tile = variant.tile(H);
      const kernel = harness.kernel('tiled forward', [...SOURCES.tiledForward], 'tiled_forward', {
        ...constants,
        ...tileConstants(tile),
      });
      const bindGroup = harness.bindGroup(kernel, buffersByName);
      for (let t = 0; t < T; t++) dispatches.push({ kernel, bindGroup, workgroups: tile.workgroups, step: t });
    } else if (variant.kind === 'register-step') {
      const kernel = harness.kernel('forward', [...SOURCES.forward], 'step_forward', {
        ...constants,
        STEP_WORKGROUP: variant.workgroup,
      });
      const bindGroup = harness.bindGroup(kernel, buffersByName);
      const groups = Math.ceil(items / variant.workgroup);
      for (let t = 0; t < T; t++) dispatches.push({ kernel, bindGroup, workgroups: [groups, 1], step: t });
    } else {
      const kernel = harness.kernel('forward', [...SOURCES.forward], 'persistent_forward', {
        ...constants,
        PERSISTENT_WORKGROUP: variant.workgroup,
      });
      dispatches.push({ kernel, bindGroup: harness.bindGroup(kernel, buffersByName), workgroups: [1, 1] });
    }
  });
  const { dense } = layout;
  const denseKernel = harness.kernel('dense', [...SOURCES.dense], 'main', {
    WITH_LOSS: 1,
    WITH_GRADIENTS: 1,
    WINDOW: T,
    PARAM_COUNT: layout.size,
    HIDDEN_SIZE: dense.inputSize,
    OUTPUT_SIZE: dense.outputSize,
    DENSE_W_OFFSET: dense.w,
    DENSE_B_OFFSET: dense.b,
    TOP_ROW: dense.inputSize + layout.layers[top].inputSize + 1,
  });
  dispatches.push({
    kernel: denseKernel,
    bindGroup: harness.bindGroup(denseKernel, {
      params: model.params,
      yTop: model.layers[top].inputs,
      targets: model.targets,
      order: model.order,
      outputs: model.outputs,
      dyTop: model.dyTop,
      grads: model.grads,
      batchPass: model.batchPass,
    }),
    workgroups: [1, 1],
  });
  return dispatches;
}

/** BPTT of every layer from the top (the variant's), each followed by its weight and input gradients. */
export function backwardDispatches(model: GpuModel, variant: BackwardVariant): HarnessDispatch[] {
  const { harness, reference } = model;
  const { layout, batch } = reference;
  const T = layout.config.window;
  const top = layout.layers.length - 1;
  const dispatches: HarnessDispatch[] = [];
  if (variant.kind === 'coalesced-step' || variant.kind === 'coalesced-persistent') {
    dispatches.push(transposeDispatch(model, variant.transpose));
  }
  const transposed = transposePlan(layout, harness.device.limits.maxComputeWorkgroupsPerDimension);
  for (let l = top; l >= 0; l--) {
    const layer = layout.layers[l];
    const { inputSize: I, hiddenSize: H } = layer;
    const buffers = model.layers[l];
    const fromAbove = l === top ? model.dyTop : model.layers[l + 1].dInput;
    if (fromAbove === null) throw new Error('unreachable: a layer above the first has dInput');
    const constants = {
      WINDOW: T,
      PARAM_COUNT: layout.size,
      HIDDEN_SIZE: H,
      V_OFFSET: layer.v,
      FROM_DENSE: l === top ? 1 : 0,
    };
    const buffersByName: Record<string, GPUBuffer> = {
      params: model.params,
      gates: buffers.gates,
      c: buffers.c,
      dyAbove: fromAbove,
      delta: buffers.delta,
      dc: model.dc,
      batchPass: model.batchPass,
      step: model.step,
    };
    const steps = (kernel: ReturnType<KernelHarness['kernel']>, workgroups: [number, number]) => {
      const bindGroup = harness.bindGroup(kernel, buffersByName);
      for (let t = T - 1; t >= 0; t--) dispatches.push({ kernel, bindGroup, workgroups, step: t });
    };
    if (variant.kind === 'tiled') {
      const tile = variant.tile(H);
      steps(
        harness.kernel('tiled backward', [...SOURCES.tiledBackward], 'tiled_backward', {
          ...constants,
          ...tileConstants(tile),
        }),
        tile.workgroups,
      );
    } else if (variant.kind === 'register-step') {
      const items = Math.ceil(batch / 4) * Math.ceil(H / 4);
      steps(
        harness.kernel('backward', [...SOURCES.backward], 'step_backward', {
          ...constants,
          STEP_WORKGROUP: variant.workgroup,
        }),
        [Math.ceil(items / variant.workgroup), 1],
      );
    } else if (variant.kind === 'register-persistent') {
      const kernel = harness.kernel('backward', [...SOURCES.backward], 'persistent_backward', {
        ...constants,
        PERSISTENT_WORKGROUP: variant.workgroup,
      });
      dispatches.push({ kernel, bindGroup: harness.bindGroup(kernel, buffersByName), workgroups: [1, 1] });
    } else {
      buffersByName.recurrentTransposed = model.recurrentTransposed;
      const coalescedConstants = {
        ...constants,
        TRANSPOSED_OFFSET: transposed.transposedOffsets[l],
        TRANSPOSED_SIZE: transposed.transposedSize,
      };
      if (variant.kind === 'coalesced-step') {
        steps(
          harness.kernel('coalesced backward', [...SOURCES.coalescedBackward], 'step_backward_coalesced', {
            ...coalescedConstants,
            STEP_WORKGROUP: variant.workgroup,
          }),
          [Math.ceil((Math.ceil(batch / 4) * H) / variant.workgroup), 1],
        );
      } else {
        const kernel = harness.kernel(
          'coalesced backward',
          [...SOURCES.coalescedBackward],
          'persistent_backward_coalesced',
          { ...coalescedConstants, PERSISTENT_WORKGROUP: variant.workgroup },
        );
        dispatches.push({ kernel, bindGroup: harness.bindGroup(kernel, buffersByName), workgroups: [1, 1] });
      }
    }
    const gradientConstants = { WINDOW: T, PARAM_COUNT: layout.size, INPUT_SIZE: I, HIDDEN_SIZE: H, W_OFFSET: layer.w };
    const weightGradients = harness.kernel(
      'weight gradients',
      [...SOURCES.weightGradients],
      MATMUL_ENTRY,
      gradientConstants,
    );
    dispatches.push({
      kernel: weightGradients,
      bindGroup: harness.bindGroup(weightGradients, {
        inputs: buffers.inputs,
        delta: buffers.delta,
        grads: model.grads,
        batchPass: model.batchPass,
      }),
      workgroups: matmulGrid(I + H + 1, GATES * H),
    });
    if (buffers.dInput !== null) {
      const inputGradients = harness.kernel(
        'input gradients',
        [...SOURCES.inputGradients],
        MATMUL_ENTRY,
        gradientConstants,
      );
      dispatches.push({
        kernel: inputGradients,
        bindGroup: harness.bindGroup(inputGradients, {
          params: model.params,
          delta: buffers.delta,
          dInput: buffers.dInput,
          batchPass: model.batchPass,
        }),
        workgroups: matmulGrid(T * batch, I),
      });
    }
  }
  return dispatches;
}

/** The Vᵀ refresh of every layer: one dispatch. */
export function transposeDispatch(model: GpuModel, entry: TransposeEntry): HarnessDispatch {
  const { harness, reference } = model;
  const plan = transposePlan(reference.layout, harness.device.limits.maxComputeWorkgroupsPerDimension);
  const kernel = harness.kernel('recurrent transpose', [...SOURCES.transpose], `transpose_${entry}`, {
    LAYER_COUNT: reference.layout.layers.length,
    PARAM_COUNT: reference.layout.size,
    TRANSPOSED_SIZE: plan.transposedSize,
  });
  return {
    kernel,
    bindGroup: harness.bindGroup(kernel, {
      params: model.params,
      recurrentTransposed: model.recurrentTransposed,
      transposeLayers: model.transposeLayers,
    }),
    workgroups: plan.workgroups[entry],
  };
}

/**
 * A fused pass: the rows kernel (one workgroup a row group) and, where the mode sums anything, the
 * gradients kernel. By default a gradients() pass: gradients and the loss.
 */
export function fusedDispatches(
  model: GpuModel,
  plan: FusedPlan,
  mode: FusedMode = { withLoss: true, withGradients: true },
): HarnessDispatch[] {
  const { harness, reference } = model;
  const { layout } = reference;
  const buffers = model.layers[0];
  const rows = harness.kernel(
    'fused rows',
    [...SOURCES.fusedRows],
    'fused_rows',
    fusedRowsConstants(layout, plan, mode),
  );
  const dispatches: HarnessDispatch[] = [
    {
      kernel: rows,
      bindGroup: harness.bindGroup(rows, {
        params: model.params,
        samples: model.samples,
        order: model.order,
        targets: model.targets,
        gates: buffers.gates,
        c: buffers.c,
        inputs: buffers.inputs,
        outputs: model.outputs,
        batchPass: model.batchPass,
      }),
      workgroups: [plan.rowGroups, 1],
    },
  ];
  const constants = fusedGradientsConstants(layout, plan, mode);
  if (constants !== null) {
    const gradients = harness.kernel('fused gradients', [...SOURCES.fusedGradients], 'fused_gradients', constants);
    dispatches.push({
      kernel: gradients,
      bindGroup: harness.bindGroup(gradients, {
        inputs: buffers.inputs,
        gates: buffers.gates,
        outputs: model.outputs,
        grads: model.grads,
        batchPass: model.batchPass,
      }),
      workgroups: gradientWorkgroups(layout, plan, mode, harness.device.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  return dispatches;
}

export interface StepResults {
  loss: number;
  /** (B, O) */
  out: Float32Array;
  grads: Float32Array;
  /** Per layer, in the CPU workspace's layout: activations (T, B, 4H) and c (T+1, B, H). */
  gates: Float32Array[];
  c: Float32Array[];
}

/** What the dispatches left: the loss, the outputs, the gradients, and every layer's states. */
export async function readResults(model: GpuModel): Promise<StepResults> {
  const { harness, reference, capacity: C } = model;
  const { layout, batch: B } = reference;
  const { window: T, outputSize: O } = layout.config;
  const outputs = await harness.read(model.outputs);
  const block = denseOutputsLength(C, O);
  const gates: Float32Array[] = [];
  const c: Float32Array[] = [];
  for (const [l, { hiddenSize: H }] of layout.layers.entries()) {
    gates.push((await harness.read(model.layers[l].gates)).slice(0, T * B * GATES * H));
    // Row t of the pass is state_row(t, b) = C - B + t B + b: steps 0..T are contiguous from C - B.
    const states = await harness.read(model.layers[l].c);
    c.push(states.slice((C - B) * H, (C - B + (T + 1) * B) * H));
  }
  return {
    loss: outputs[block],
    out: outputs.slice(4, 4 + B * O),
    grads: (await harness.read(model.grads)).slice(0, layout.size),
    gates,
    c,
  };
}

/**
 * What of a step lies outside tol * max(1, max|e|) of the reference, per tensor: the loss, the outputs,
 * each layer's cell states, and as `checks` says each gradient tensor and each layer's activations
 * (which the fused backward overwrites with deltas). Empty when everything matches.
 */
export function stepMismatches(
  reference: ReferenceStep,
  results: StepResults,
  tol: number,
  checks: { gradients: boolean; activations: boolean } = { gradients: true, activations: true },
): string[] {
  const mismatches: string[] = [];
  const check = (name: string, diff: number, scale: number) => {
    const allowed = tol * Math.max(1, scale);
    if (!(diff <= allowed)) mismatches.push(`${name}: off by ${diff}, allowed ${allowed}`);
  };
  check('loss', Math.abs(results.loss - reference.loss), Math.abs(reference.loss));
  const out = maxAbsDiff(results.out, reference.out);
  check('outputs', out.diff, out.scale);
  if (checks.gradients) {
    for (const { name, diff, allowed } of tensorErrors(reference.layout, results.grads, reference.grads, tol)) {
      check(`gradient of ${name}`, diff, allowed / tol);
    }
  }
  reference.layout.layers.forEach((_, l) => {
    const layer = reference.workspace.layers[l];
    if (checks.activations) {
      const gates = maxAbsDiff(results.gates[l], layer.gates, 0, results.gates[l].length);
      check(`lstm[${l}] activations`, gates.diff, gates.scale);
    }
    const c = maxAbsDiff(results.c[l], layer.c, 0, results.c[l].length);
    check(`lstm[${l}] cell states`, c.diff, c.scale);
  });
  return mismatches;
}
