// The compute kernels of the WebGPU backend: each kernel's WGSL (one kernel a file in shaders/, with
// the shared library files it needs; a kernel may have one entry point per schedule), its explicit
// bind group layout (read-only storage for inputs,
// storage for outputs, uniforms with dynamic offsets for the per-step indices), and a per-device cache
// so that a module, layout or pipeline is made once per (kernel, override constants). The cache is a
// WeakMap on the device, so a lost or destroyed device takes its pipelines with it.

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

/** read: read-only storage; write: storage; uniform: whole-buffer uniform; dynamic: uniform with a dynamic offset. */
type BindingKind = 'read' | 'write' | 'uniform' | 'dynamic';

interface KernelSpec {
  /** The kernel's file first, then the libraries it calls (params.wgsl is prepended to all). */
  sources: string[];
  bindings: BindingKind[];
}

export const KERNELS = {
  input_projection: {
    sources: [inputProjectionSource, matmulSource],
    bindings: ['read', 'read', 'read', 'write', 'write', 'dynamic'],
  },
  lstm_forward: {
    sources: [forwardSource, cellSource],
    bindings: ['read', 'write', 'write', 'write', 'write', 'dynamic', 'dynamic'],
  },
  dense: { sources: [denseSource], bindings: ['read', 'read', 'read', 'read', 'write', 'write', 'write', 'dynamic'] },
  lstm_backward: {
    sources: [backwardSource, cellSource],
    bindings: ['read', 'read', 'read', 'read', 'write', 'write', 'dynamic', 'dynamic'],
  },
  weight_gradients: { sources: [weightGradientsSource, matmulSource], bindings: ['read', 'read', 'write', 'dynamic'] },
  input_gradients: { sources: [inputGradientsSource, matmulSource], bindings: ['read', 'read', 'write', 'dynamic'] },
  gradient_norm: { sources: [gradientNormSource, workgroupSumSource], bindings: ['read', 'write'] },
  optimizer_update: {
    sources: [optimizerUpdateSource, workgroupSumSource],
    bindings: ['write', 'read', 'write', 'write', 'read', 'read', 'uniform', 'dynamic'],
  },
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

/** Bytes between the entries of a dynamically offset uniform buffer (at least the device's alignment). */
export function uniformStride(device: GPUDevice): number {
  return Math.max(256, device.limits.minUniformBufferOffsetAlignment);
}

/** Bytes a dynamic uniform binding covers (the largest of params.wgsl's structs, padded). */
export const UNIFORM_BINDING_SIZE = 16;

export class KernelCache {
  private readonly device: GPUDevice;
  private readonly modules = new Map<KernelName, GPUShaderModule>();
  private readonly bindGroupLayouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelineLayouts = new Map<KernelName, GPUPipelineLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(device: GPUDevice) {
    this.device = device;
  }

  /** Kernels with the same bindings share one layout. */
  bindGroupLayout(kernel: KernelName): GPUBindGroupLayout {
    const { bindings } = KERNELS[kernel];
    const key = bindings.join(',');
    let layout = this.bindGroupLayouts.get(key);
    if (layout === undefined) {
      layout = this.device.createBindGroupLayout({
        label: `bindings ${key}`,
        entries: bindings.map((kind, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: bufferBindingLayout(kind),
        })),
      });
      this.bindGroupLayouts.set(key, layout);
    }
    return layout;
  }

  /** The pipeline of `kernel`'s entry point `entryPoint` with its override constants. */
  pipeline(kernel: KernelName, entryPoint: string, constants: Record<string, number>): GPUComputePipeline {
    const key = `${kernel}.${entryPoint} ${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline === undefined) {
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.pipelineLayout(kernel),
        compute: { module: this.module(kernel), entryPoint, constants },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A bind group for `kernel` over `buffers`, in binding order; dynamic uniforms bind one entry's window. */
  bindGroup(kernel: KernelName, label: string, buffers: GPUBuffer[]): GPUBindGroup {
    const { bindings } = KERNELS[kernel];
    if (buffers.length !== bindings.length) {
      throw new Error(`${kernel}: ${bindings.length} bindings, ${buffers.length} buffers given`);
    }
    return this.device.createBindGroup({
      label,
      layout: this.bindGroupLayout(kernel),
      entries: buffers.map((buffer, binding) => ({
        binding,
        resource: bindings[binding] === 'dynamic' ? { buffer, size: UNIFORM_BINDING_SIZE } : { buffer },
      })),
    });
  }

  private pipelineLayout(kernel: KernelName): GPUPipelineLayout {
    let layout = this.pipelineLayouts.get(kernel);
    if (layout === undefined) {
      layout = this.device.createPipelineLayout({ label: kernel, bindGroupLayouts: [this.bindGroupLayout(kernel)] });
      this.pipelineLayouts.set(kernel, layout);
    }
    return layout;
  }

  private module(kernel: KernelName): GPUShaderModule {
    let module = this.modules.get(kernel);
    if (module === undefined) {
      module = this.device.createShaderModule({
        label: `${kernel}.wgsl`,
        code: [paramsSource, ...KERNELS[kernel].sources].join('\n'),
      });
      this.modules.set(kernel, module);
    }
    return module;
  }
}

function bufferBindingLayout(kind: BindingKind): GPUBufferBindingLayout {
  switch (kind) {
    case 'read':
      return { type: 'read-only-storage' };
    case 'write':
      return { type: 'storage' };
    case 'uniform':
      return { type: 'uniform' };
    case 'dynamic':
      return { type: 'uniform', hasDynamicOffset: true, minBindingSize: UNIFORM_BINDING_SIZE };
  }
}

const caches = new WeakMap<GPUDevice, KernelCache>();

export function kernelsFor(device: GPUDevice): KernelCache {
  let cache = caches.get(device);
  if (cache === undefined) {
    cache = new KernelCache(device);
    caches.set(device, cache);
  }
  return cache;
}
