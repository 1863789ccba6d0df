// The table of the WebGPU backend's kernels: for each, its WGSL (the kernel's own file in shaders/,
// then the library files it calls; params.wgsl goes before all) and its bindings by name, in binding
// order, with their access. The names are the WGSL variables' names; tests/webgpu-kernels.test.ts
// checks every kernel module's `@group(0) @binding(n) var<...> name` against this table, and bind
// groups are built from records keyed by these names (pipelines.ts), so a binding is spelled out once.
// A kernel that appends another kernel's file (the tiled and coalesced recurrence steps) shares its
// bindings, and so its bind groups.

import denseSource from '../../../shaders/dense.wgsl?raw';
import gateRowsSource from '../../../shaders/gate_rows.wgsl?raw';
import gradientNormSource from '../../../shaders/gradient_norm.wgsl?raw';
import inputGradientsSource from '../../../shaders/input_gradients.wgsl?raw';
import inputProjectionSource from '../../../shaders/input_projection.wgsl?raw';
import backwardSource from '../../../shaders/lstm_backward.wgsl?raw';
import backwardCoalescedSource from '../../../shaders/lstm_backward_coalesced.wgsl?raw';
import backwardTiledSource from '../../../shaders/lstm_backward_tiled.wgsl?raw';
import cellSource from '../../../shaders/lstm_cell.wgsl?raw';
import forwardSource from '../../../shaders/lstm_forward.wgsl?raw';
import forwardTiledSource from '../../../shaders/lstm_forward_tiled.wgsl?raw';
import fusedGradientsSource from '../../../shaders/lstm_fused_gradients.wgsl?raw';
import fusedRowsSource from '../../../shaders/lstm_fused_rows.wgsl?raw';
import matmulSource from '../../../shaders/matmul.wgsl?raw';
import optimizerUpdateSource from '../../../shaders/optimizer_update.wgsl?raw';
import outputsSource from '../../../shaders/outputs.wgsl?raw';
import paramsSource from '../../../shaders/params.wgsl?raw';
import transposeSource from '../../../shaders/recurrent_transpose.wgsl?raw';
import weightGradientsSource from '../../../shaders/weight_gradients.wgsl?raw';
import workgroupSumSource from '../../../shaders/workgroup_sum.wgsl?raw';

/**
 * How a kernel binds a buffer: 'read' is var<storage, read>, 'read_write' var<storage, read_write>,
 * 'uniform' var<uniform> bound whole, 'dynamic' var<uniform> bound one entry at a time (a dynamic
 * offset picks the minibatch step or the time step).
 */
export type BindingAccess = 'read' | 'read_write' | 'uniform' | 'dynamic';

interface KernelSpec {
  /** The kernel's file first, then the libraries it calls. */
  sources: readonly string[];
  /** Binding name -> access, in binding order (binding n is the n-th entry). */
  bindings: Readonly<Record<string, BindingAccess>>;
}

const FORWARD_BINDINGS = {
  params: 'read',
  gates: 'read_write',
  c: 'read_write',
  inputs: 'read_write',
  above: 'read_write',
  batchPass: 'dynamic',
  step: 'dynamic',
} as const;

const BACKWARD_BINDINGS = {
  params: 'read',
  gates: 'read',
  c: 'read',
  dyAbove: 'read',
  delta: 'read_write',
  dc: 'read_write',
  batchPass: 'dynamic',
  step: 'dynamic',
} as const;

export const KERNELS = {
  input_projection: {
    sources: [inputProjectionSource, matmulSource],
    bindings: {
      params: 'read',
      samples: 'read',
      order: 'read',
      inputs: 'read_write',
      gates: 'read_write',
      batchPass: 'dynamic',
    },
  },
  lstm_forward: { sources: [forwardSource, cellSource], bindings: FORWARD_BINDINGS },
  lstm_forward_tiled: { sources: [forwardTiledSource, forwardSource, cellSource], bindings: FORWARD_BINDINGS },
  dense: {
    sources: [denseSource, outputsSource],
    bindings: {
      params: 'read',
      yTop: 'read',
      targets: 'read',
      order: 'read',
      outputs: 'read_write',
      dyTop: 'read_write',
      grads: 'read_write',
      batchPass: 'dynamic',
    },
  },
  lstm_backward: { sources: [backwardSource, cellSource], bindings: BACKWARD_BINDINGS },
  lstm_backward_tiled: { sources: [backwardTiledSource, backwardSource, cellSource], bindings: BACKWARD_BINDINGS },
  lstm_backward_coalesced: {
    sources: [backwardCoalescedSource, backwardSource, cellSource],
    bindings: { ...BACKWARD_BINDINGS, recurrentTransposed: 'read' },
  },
  recurrent_transpose: {
    sources: [transposeSource],
    bindings: { params: 'read', recurrentTransposed: 'read_write', transposeLayers: 'read' },
  },
  lstm_fused_rows: {
    sources: [fusedRowsSource, cellSource, gateRowsSource, outputsSource],
    bindings: {
      params: 'read',
      samples: 'read',
      order: 'read',
      targets: 'read',
      gates: 'read_write',
      c: 'read_write',
      inputs: 'read_write',
      outputs: 'read_write',
      batchPass: 'dynamic',
    },
  },
  lstm_fused_gradients: {
    sources: [fusedGradientsSource, gateRowsSource, outputsSource],
    bindings: { inputs: 'read', gates: 'read', outputs: 'read_write', grads: 'read_write', batchPass: 'dynamic' },
  },
  weight_gradients: {
    sources: [weightGradientsSource, matmulSource],
    bindings: { inputs: 'read', delta: 'read', grads: 'read_write', batchPass: 'dynamic' },
  },
  input_gradients: {
    sources: [inputGradientsSource, matmulSource],
    bindings: { params: 'read', delta: 'read', dInput: 'read_write', batchPass: 'dynamic' },
  },
  gradient_norm: {
    sources: [gradientNormSource, workgroupSumSource],
    bindings: { grads: 'read', gradSquares: 'read_write' },
  },
  optimizer_update: {
    sources: [optimizerUpdateSource, workgroupSumSource],
    bindings: {
      params: 'read_write',
      grads: 'read',
      firstState: 'read_write',
      secondState: 'read_write',
      gradSquares: 'read',
      corrections: 'read',
      members: 'read',
      batchPass: 'dynamic',
    },
  },
} as const satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

/** The buffers of a bind group of `kernel`, by binding name. */
export type Bindings<K extends KernelName> = Record<keyof (typeof KERNELS)[K]['bindings'], GPUBuffer>;

/** The WGSL of a kernel's shader module: params.wgsl, then the kernel's file and its libraries. */
export function kernelCode(kernel: KernelName): string {
  return [paramsSource, ...KERNELS[kernel].sources].join('\n');
}
