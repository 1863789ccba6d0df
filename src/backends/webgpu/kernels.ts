// The table of the WebGPU backend's kernels: for each, its WGSL (the kernel's own file in shaders/,
// then the library files it calls; params.wgsl goes before all) and its bindings by name, in binding
// order, with their access. The names are the WGSL variables' names; tests/webgpu-bindings.test.ts
// checks every shader's `@group(0) @binding(n) var<...> name` against this table, and bind groups are
// built from records keyed by these names (pipelines.ts), so a binding is spelled out once.

import denseSource from '../../../shaders/dense.wgsl?raw';
import gradientNormSource from '../../../shaders/gradient_norm.wgsl?raw';
import inputGradientsSource from '../../../shaders/input_gradients.wgsl?raw';
import inputProjectionSource from '../../../shaders/input_projection.wgsl?raw';
import backwardSource from '../../../shaders/lstm_backward.wgsl?raw';
import cellSource from '../../../shaders/lstm_cell.wgsl?raw';
import forwardSource from '../../../shaders/lstm_forward.wgsl?raw';
import matmulSource from '../../../shaders/matmul.wgsl?raw';
import optimizerUpdateSource from '../../../shaders/optimizer_update.wgsl?raw';
import paramsSource from '../../../shaders/params.wgsl?raw';
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
  lstm_forward: {
    sources: [forwardSource, cellSource],
    bindings: {
      params: 'read',
      gates: 'read_write',
      c: 'read_write',
      inputs: 'read_write',
      above: 'read_write',
      batchPass: 'dynamic',
      step: 'dynamic',
    },
  },
  dense: {
    sources: [denseSource],
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
  lstm_backward: {
    sources: [backwardSource, cellSource],
    bindings: {
      params: 'read',
      gates: 'read',
      c: 'read',
      dyAbove: 'read',
      delta: 'read_write',
      dc: 'read_write',
      batchPass: 'dynamic',
      step: 'dynamic',
    },
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
      epoch: 'uniform',
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
