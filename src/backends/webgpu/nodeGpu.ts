// WebGPU in Node (the CLI and the tests) through the `webgpu` npm package (Dawn). Dawn needs a Vulkan
// driver: on a GPU server the vendor's, found the usual way; on these GPU-less machines SwiftShader's,
// which ships with Debian's chromium.
//
// Dawn reads VK_ICD_FILENAMES each time `create()` builds an instance (checked: setting it after a
// first create() in the same process works), so we try the system's drivers first and SwiftShader
// second. The first try is skipped where Linux shows no GPU device node: Mesa's ICD files are
// installed without hardware here, and probing them only prints Dawn's warnings.

import { existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Dawn's flags for SwiftShader: without Tint's bounds clamp on every storage access, which SwiftShader
 * pays for on the CPU, the blog's training step takes much less CPU time (docs/PERFORMANCE.md).
 * Our own kernels only, whose indices the CPU-equality tests check; a browser keeps its robustness.
 */
const SWIFTSHADER_FLAGS = ['enable-dawn-features=disable_robustness'];

export interface NodeGpu {
  gpu: GPU;
  /** True when the adapter is SwiftShader (the CPU emulation), so timings say nothing about a GPU. */
  swiftShader: boolean;
}

let cached: Promise<NodeGpu | null> | null = null;
/** Why the `webgpu` module itself did not load (a bundle without its dawn.node, say), once probed. */
let loadFailure: string | null = null;

/** After nodeGpu() gave null: why the `webgpu` module did not load, or null where it loaded (no adapter then). */
export function nodeGpuLoadFailure(): string | null {
  return loadFailure;
}

/** The `gpu` object for Node, or null when no adapter can be had. Probed once per process. */
export function nodeGpu(): Promise<NodeGpu | null> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<NodeGpu | null> {
  let create: (options: string[]) => GPU;
  try {
    const dawn = await import('webgpu');
    create = dawn.create;
    // GPUBufferUsage, GPUMapMode… as in a browser; never replace what the host already has.
    const globals = dawn.globals as Record<string, unknown>;
    for (const [name, value] of Object.entries(globals)) {
      if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
    }
  } catch (err) {
    loadFailure = err instanceof Error ? err.message : String(err);
    return null;
  }

  const adapterOn = async (flags: readonly string[] = []): Promise<{ gpu: GPU; architecture: string } | null> => {
    try {
      // Dawn rounds timestamps down to 2^16 ns by default, a browser's guard against timing attacks
      // that a CLI or a test has no need of; exact ones let short kernels be timed (profiler.ts).
      const gpu = create(['disable-dawn-features=timestamp_quantization', ...flags]);
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      return adapter === null ? null : { gpu, architecture: adapter.info.architecture };
    } catch {
      return null;
    }
  };
  const found = (result: { gpu: GPU; architecture: string }): NodeGpu => ({
    gpu: result.gpu,
    swiftShader: /swiftshader/i.test(result.architecture),
  });

  const chosenByUser = process.env.VK_ICD_FILENAMES !== undefined || process.env.VK_DRIVER_FILES !== undefined;
  if (chosenByUser || process.platform !== 'linux' || hasGpuDeviceNode()) {
    const system = await adapterOn();
    if (system !== null) return found(system);
    if (chosenByUser) return null;
  }
  if (process.platform !== 'linux' || !existsSync(SWIFTSHADER_ICD)) return null;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  quietRuntimeDir();
  const software = await adapterOn(SWIFTSHADER_FLAGS);
  return software === null ? null : found(software);
}

/**
 * SwiftShader's Wayland probe (libwayland) prints "XDG_RUNTIME_DIR is invalid or not set" on stderr,
 * twice, unless the variable holds an absolute path (whether it exists does not matter to it): so
 * where it is unset, empty or relative, as on servers and in CI, it buries the CLI's one-line
 * messages. A private folder of ours satisfies it; where none can be made (no writable temporary
 * folder), /dev/null does: absolute, and no display's socket can be under it.
 */
function quietRuntimeDir(): void {
  const current = process.env.XDG_RUNTIME_DIR;
  if (current !== undefined && isAbsolute(current)) return;
  process.env.XDG_RUNTIME_DIR = privateRuntimeDir() ?? '/dev/null';
}

function privateRuntimeDir(): string | null {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `webgpu-lstm-xdg-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    // Ours alone, as the XDG spec asks: a folder someone else made there could hold their sockets.
    return isAbsolute(dir) && stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0 ? dir : null;
  } catch {
    return null;
  }
}

/** Whether Linux exposes a GPU to user space: DRM render nodes, NVIDIA's devices or WSL's dxg. */
function hasGpuDeviceNode(): boolean {
  try {
    if (readdirSync('/dev/dri').some((name) => name.startsWith('renderD'))) return true;
  } catch {
    // no /dev/dri
  }
  return existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}
