// The kernel table (src/backends/webgpu/kernels.ts) against the shaders: every `@group(0)
// @binding(n) var<...> name` of a kernel's module (its file and the files it appends) is the table's
// n-th binding of that kernel, with the same name and access, and only kernel files declare bindings. And every kernel is built inside
// createWebGpuBackend's error scope: a shader that does not compile, or a pipeline whose constants
// are wrong, fails there, whichever kernel it is.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpuFailure } from '../src/backends/backend.js';
import { KERNELS, type KernelName } from '../src/backends/webgpu/kernels.js';
import { createWebGpuBackend } from '../src/backends/webgpu/webgpuBackend.js';
import { paramLayout } from '../src/model/layout.js';
import { repoRoot } from './helpers.js';
import { testGpuContext } from './webgpu-context.js';

const shadersDir = join(repoRoot, 'shaders');
const shaderFiles = readdirSync(shadersDir).filter((file) => file.endsWith('.wgsl'));

interface Declared {
  group: number;
  binding: number;
  name: string;
  /** 'read', 'read_write' or 'uniform', as the table's accesses read in WGSL */
  access: string;
}

function declaredBindings(source: string): Declared[] {
  const pattern = /@group\((\d+)\)\s*@binding\((\d+)\)\s*var<([^>]+)>\s*(\w+)\s*:/g;
  return [...source.matchAll(pattern)].map(([, group, binding, space, name]) => {
    const [addressSpace, access = 'read'] = space.split(',').map((part) => part.trim());
    return {
      group: Number(group),
      binding: Number(binding),
      name,
      access: addressSpace === 'uniform' ? 'uniform' : access,
    };
  });
}

describe('the kernel table and the shaders', () => {
  it('finds the shaders and their bindings', () => {
    expect(shaderFiles.length).toBeGreaterThanOrEqual(Object.keys(KERNELS).length);
    expect(declaredBindings(readFileSync(join(shadersDir, 'dense.wgsl'), 'utf8'))).toHaveLength(8);
  });

  for (const file of shaderFiles) {
    it(`${file}: its module's bindings are its kernel's in the table, by number, name and access`, () => {
      const source = readFileSync(join(shadersDir, file), 'utf8');
      const declared = declaredBindings(source);
      const kernel = file.replace(/\.wgsl$/, '');
      if (!(kernel in KERNELS)) {
        // A library (or params.wgsl): part of some kernel's module, and no bindings of its own.
        expect(declared, `${file} declares bindings but is no kernel of the table`).toEqual([]);
        const used =
          file === 'params.wgsl' ||
          Object.values(KERNELS).some((spec) => (spec.sources as readonly string[]).includes(source));
        expect(used, `${file} is in no kernel's sources`).toBe(true);
        return;
      }
      const spec = KERNELS[kernel as KernelName];
      expect(spec.sources[0], `${kernel}'s first source is ${file}`).toBe(source);
      const moduleBindings = declaredBindings(spec.sources.join('\n')).sort((a, b) => a.binding - b.binding);
      const table = Object.entries(spec.bindings).map(([name, access], binding) => ({
        group: 0,
        binding,
        name,
        access: access === 'dynamic' ? 'uniform' : access,
      }));
      expect(moduleBindings).toEqual(table);
    });
  }
});

describe('every kernel is built inside the setup error scope', () => {
  // Two layers, so that every kernel (the input gradients too) is part of the model.
  const layout = paramLayout({ inputSize: 2, hiddenSizes: [3, 2], outputSize: 1, window: 2 });

  /** createWebGpuBackend on a fresh device whose `sabotage` spoils one thing; what it throws. */
  async function setupWith(sabotage: (device: GPUDevice) => void): Promise<unknown> {
    const context = await testGpuContext();
    try {
      sabotage(context.device);
      return await createWebGpuBackend(context, layout).then(
        (backend) => {
          void backend.dispose();
          return null;
        },
        (error: unknown) => error,
      );
    } finally {
      context.destroy();
    }
  }

  // The optimizer's kernels are not part of any pass: they are built for the scope on purpose.
  it('optimizer_update.wgsl that does not compile', async () => {
    const error = await setupWith((device) => {
      const create = device.createShaderModule.bind(device);
      device.createShaderModule = (descriptor) =>
        create(
          descriptor.label === 'optimizer_update.wgsl'
            ? { ...descriptor, code: `${descriptor.code}\nnot wgsl` }
            : descriptor,
        );
    });
    expect(error).toBeInstanceOf(GpuFailure);
    expect((error as Error).message).toMatch(/setup failed.*optimizer_update/s);
  });

  it("the gradient norm's pipeline with a constant it does not declare", async () => {
    const error = await setupWith((device) => {
      const create = device.createComputePipeline.bind(device);
      device.createComputePipeline = (descriptor) =>
        create(
          descriptor.label?.startsWith('gradient_norm')
            ? { ...descriptor, compute: { ...descriptor.compute, constants: { NO_SUCH_CONSTANT: 1 } } }
            : descriptor,
        );
    });
    expect(error).toBeInstanceOf(GpuFailure);
    expect((error as Error).message).toMatch(/setup failed.*(NO_SUCH_CONSTANT|gradient_norm)/s);
  });
});
