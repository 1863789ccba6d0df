// Runs WGSL kernels directly on a device, without the backend's plumbing: a pipeline from a kernel's
// sources (params.wgsl prepended, as the backend does) with its bind group layout read from the
// sources' own `@group(0) @binding(n) var<…> name: Type` declarations, bind groups by binding name,
// and the PassParams / StepParams uniforms bound with dynamic offsets. Every buffer it makes is
// destroyed by destroy().

import paramsSource from '../shaders/params.wgsl?raw';

export type BindingType = 'read-only-storage' | 'storage' | 'uniform';

export interface ParsedBinding {
  index: number;
  name: string;
  type: BindingType;
  /** Uniforms of the per-pass and per-step structs are bound with a dynamic offset. */
  dynamic: boolean;
}

const DECLARATION = /@group\(0\)\s*@binding\((\d+)\)\s*var<([^>]+)>\s*(\w+)\s*:\s*([^;]+);/g;
const DYNAMIC_STRUCTS = new Set(['PassParams', 'StepParams']);
/** Bytes a dynamic uniform binding covers (UNIFORM_BINDING_SIZE in the backend). */
const UNIFORM_WINDOW = 16;

/** The bindings declared in `source`, by index; throws on a space the harness does not know. */
export function parseBindings(source: string): ParsedBinding[] {
  const bindings: ParsedBinding[] = [];
  for (const [, index, space, name, type] of source.matchAll(DECLARATION)) {
    const parts = space.split(',').map((part) => part.trim());
    let bindingType: BindingType;
    if (parts[0] === 'uniform') bindingType = 'uniform';
    else if (parts[0] === 'storage' && parts[1] === 'read_write') bindingType = 'storage';
    else if (parts[0] === 'storage' && (parts[1] ?? 'read') === 'read') bindingType = 'read-only-storage';
    else throw new Error(`binding ${name}: unknown address space <${space}>`);
    bindings.push({ index: Number(index), name, type: bindingType, dynamic: DYNAMIC_STRUCTS.has(type.trim()) });
  }
  bindings.sort((a, b) => a.index - b.index);
  bindings.forEach((binding, i) => {
    if (binding.index !== i) throw new Error(`bindings are not numbered 0..n-1: ${binding.name} is ${binding.index}`);
  });
  return bindings;
}

export interface HarnessKernel {
  label: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  bindings: ParsedBinding[];
}

export interface HarnessDispatch {
  kernel: HarnessKernel;
  bindGroup: GPUBindGroup;
  workgroups: [number, number];
  /** Time step (the StepParams entry); 0 where the kernel has none. */
  step?: number;
}

export class KernelHarness {
  readonly device: GPUDevice;
  private readonly buffers: GPUBuffer[] = [];
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly stride: number;

  constructor(device: GPUDevice) {
    this.device = device;
    this.stride = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
  }

  /** The pipeline of `entryPoint` in `sources` (kernel file first, then its libraries). */
  kernel(label: string, sources: string[], entryPoint: string, constants: Record<string, number>): HarnessKernel {
    const code = [paramsSource, ...sources].join('\n');
    let module = this.modules.get(code);
    if (module === undefined) {
      module = this.device.createShaderModule({ label, code });
      this.modules.set(code, module);
    }
    const bindings = parseBindings(code);
    const layout = this.device.createBindGroupLayout({
      label,
      entries: bindings.map(({ index, type, dynamic }) => ({
        binding: index,
        visibility: GPUShaderStage.COMPUTE,
        buffer: dynamic ? { type, hasDynamicOffset: true, minBindingSize: UNIFORM_WINDOW } : { type },
      })),
    });
    const pipeline = this.device.createComputePipeline({
      label: `${label}.${entryPoint}`,
      layout: this.device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint, constants },
    });
    return { label, pipeline, layout, bindings };
  }

  /** A bind group of `kernel` from buffers named as its bindings; every binding needs one, no extras. */
  bindGroup(kernel: HarnessKernel, buffers: Record<string, GPUBuffer>): GPUBindGroup {
    const names = new Set(kernel.bindings.map((binding) => binding.name));
    const extra = Object.keys(buffers).filter((name) => !names.has(name));
    if (extra.length > 0) throw new Error(`${kernel.label}: no bindings named ${extra.join(', ')}`);
    return this.device.createBindGroup({
      label: kernel.label,
      layout: kernel.layout,
      entries: kernel.bindings.map(({ index, name, dynamic }) => {
        const buffer = buffers[name];
        if (buffer === undefined) throw new Error(`${kernel.label}: no buffer for binding ${name}`);
        return { binding: index, resource: dynamic ? { buffer, size: UNIFORM_WINDOW } : { buffer } };
      }),
    });
  }

  /** A storage buffer holding `data`, or `data` zero floats; copyable both ways. */
  storage(label: string, data: Float32Array | Uint32Array | number): GPUBuffer {
    const bytes = typeof data === 'number' ? 4 * data : data.byteLength;
    const buffer = this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      mappedAtCreation: typeof data !== 'number',
    });
    if (typeof data !== 'number') {
      const view =
        data instanceof Float32Array
          ? new Float32Array(buffer.getMappedRange())
          : new Uint32Array(buffer.getMappedRange());
      view.set(data);
      buffer.unmap();
    }
    this.buffers.push(buffer);
    return buffer;
  }

  /** PassParams of one pass of `batch` rows from order[0] in a workspace of `capacity` rows. */
  passUniform(batch: number, capacity: number): GPUBuffer {
    return this.uniform('pass', [[batch, 0, capacity, 0]]);
  }

  /** StepParams entries 0..window-1, one per time step. */
  stepUniform(window: number): GPUBuffer {
    return this.uniform(
      'time steps',
      Array.from({ length: window }, (_, t) => [t]),
    );
  }

  /** A uniform buffer holding `data` (a struct bound whole, such as EpochParams). */
  uniformData(label: string, data: Float32Array): GPUBuffer {
    const buffer = this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    });
    new Float32Array(buffer.getMappedRange()).set(data);
    buffer.unmap();
    this.buffers.push(buffer);
    return buffer;
  }

  /** The dispatches in order in one compute pass and one submit; resolves when the GPU is done. */
  async run(dispatches: HarnessDispatch[]): Promise<void> {
    const encoder = this.device.createCommandEncoder();
    const compute = encoder.beginComputePass();
    this.encode(compute, dispatches);
    compute.end();
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Encodes `dispatches` into an open compute pass (for timing many in one submit). */
  encode(compute: GPUComputePassEncoder, dispatches: HarnessDispatch[]): void {
    for (const { kernel, bindGroup, workgroups, step = 0 } of dispatches) {
      const dynamicCount = kernel.bindings.filter((binding) => binding.dynamic).length;
      // The pass entry first, then the time step, in binding order (PassParams precedes StepParams).
      const offsets = [0, step * this.stride].slice(0, dynamicCount);
      compute.setPipeline(kernel.pipeline);
      compute.setBindGroup(0, bindGroup, offsets);
      compute.dispatchWorkgroups(workgroups[0], workgroups[1]);
    }
  }

  /** The first `floats` values of `buffer` (its whole size by default). */
  async read(buffer: GPUBuffer, floats = buffer.size / 4): Promise<Float32Array> {
    const staging = this.device.createBuffer({
      label: `read ${buffer.label}`,
      size: 4 * floats,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, 4 * floats);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = new Float32Array(staging.getMappedRange().slice(0));
    staging.destroy();
    return values;
  }

  /** Overwrites `buffer` with `data`. */
  write(buffer: GPUBuffer, data: Float32Array): void {
    this.device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
  }

  destroy(): void {
    for (const buffer of this.buffers) buffer.destroy();
    this.buffers.length = 0;
  }

  private uniform(label: string, entries: number[][]): GPUBuffer {
    const words = this.stride / 4;
    const data = new Uint32Array(entries.length * words);
    for (const [i, entry] of entries.entries()) data.set(entry, i * words);
    const buffer = this.device.createBuffer({
      label,
      size: data.byteLength,
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    });
    new Uint32Array(buffer.getMappedRange()).set(data);
    buffer.unmap();
    this.buffers.push(buffer);
    return buffer;
  }
}
