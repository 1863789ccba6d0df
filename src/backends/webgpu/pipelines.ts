// Shader modules, layouts, pipelines and bind groups of the kernel table (kernels.ts), made once per
// device: explicit bind group layouts from each kernel's named bindings, a pipeline per (kernel, entry
// point, override constants), bind groups from records keyed by binding name. The cache is a WeakMap
// on the device, so a lost or destroyed device takes its pipelines with it. A plan names its pipelines
// by PipelineRef: each is compiled at its first use, or ahead of it where the plan is prepared.

import { type BindingAccess, type Bindings, KERNELS, type KernelName, kernelCode } from './kernels.js';

/** Bytes a dynamic uniform binding covers (the largest of params.wgsl's structs, padded). */
export const UNIFORM_BINDING_SIZE = 16;

/** A pipeline compiled at its first get() (through the cache: one per kernel, entry point and constants). */
export class PipelineRef {
  private made: GPUComputePipeline | null = null;

  constructor(private readonly make: () => GPUComputePipeline) {}

  get(): GPUComputePipeline {
    this.made ??= this.make();
    return this.made;
  }
}

export class PipelineCache {
  private readonly device: GPUDevice;
  private readonly modules = new Map<KernelName, GPUShaderModule>();
  private readonly bindGroupLayouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelineLayouts = new Map<KernelName, GPUPipelineLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(device: GPUDevice) {
    this.device = device;
  }

  /** Kernels whose bindings have the same accesses in the same order share one layout. */
  bindGroupLayout(kernel: KernelName): GPUBindGroupLayout {
    const accesses: BindingAccess[] = Object.values(KERNELS[kernel].bindings);
    const key = accesses.join(',');
    let layout = this.bindGroupLayouts.get(key);
    if (layout === undefined) {
      layout = this.device.createBindGroupLayout({
        label: `bindings ${key}`,
        entries: accesses.map((access, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: bufferBindingLayout(access),
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

  /** The pipeline of `kernel`'s entry point with its override constants, compiled at its first get(). */
  later(kernel: KernelName, entryPoint: string, constants: Record<string, number>): PipelineRef {
    return new PipelineRef(() => this.pipeline(kernel, entryPoint, constants));
  }

  /** A bind group of `kernel` over `buffers` by binding name; a dynamic uniform binds one entry's window. */
  bindGroup<K extends KernelName>(kernel: K, label: string, buffers: Bindings<K>): GPUBindGroup {
    const bindings: Record<string, BindingAccess> = KERNELS[kernel].bindings;
    const given: Record<string, GPUBuffer> = buffers;
    const names = Object.keys(bindings);
    const extra = Object.keys(given).filter((name) => !(name in bindings));
    if (extra.length > 0) throw new Error(`${kernel}: no binding named ${extra.join(', ')}`);
    return this.device.createBindGroup({
      label,
      layout: this.bindGroupLayout(kernel),
      entries: names.map((name, binding) => {
        const buffer = given[name];
        return {
          binding,
          resource: bindings[name] === 'dynamic' ? { buffer, size: UNIFORM_BINDING_SIZE } : { buffer },
        };
      }),
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
      module = this.device.createShaderModule({ label: `${kernel}.wgsl`, code: kernelCode(kernel) });
      this.modules.set(kernel, module);
    }
    return module;
  }
}

function bufferBindingLayout(access: BindingAccess): GPUBufferBindingLayout {
  switch (access) {
    case 'read':
      return { type: 'read-only-storage' };
    case 'read_write':
      return { type: 'storage' };
    case 'uniform':
      return { type: 'uniform' };
    case 'dynamic':
      return { type: 'uniform', hasDynamicOffset: true, minBindingSize: UNIFORM_BINDING_SIZE };
  }
}

const caches = new WeakMap<GPUDevice, PipelineCache>();

export function pipelinesFor(device: GPUDevice): PipelineCache {
  let cache = caches.get(device);
  if (cache === undefined) {
    cache = new PipelineCache(device);
    caches.set(device, cache);
  }
  return cache;
}
