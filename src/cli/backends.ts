// Which backend a CLI command runs on: --backend cpu | webgpu | auto (the default: WebGPU when an
// adapter exists, else the CPU), and a line saying which was picked and why.

import type { Backend } from '../backends/backend.js';
import { CpuBackend } from '../backends/cpu/cpuBackend.js';
import { InputError } from '../model/errors.js';
import type { ParamLayout } from '../model/layout.js';

export const BACKEND_CHOICES = ['auto', 'cpu', 'webgpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export function parseBackendChoice(text: string | undefined): BackendChoice {
  if (text === undefined) return 'auto';
  if ((BACKEND_CHOICES as readonly string[]).includes(text)) return text as BackendChoice;
  throw new InputError('--backend', `expected one of ${BACKEND_CHOICES.join(', ')}, got "${text}"`);
}

export interface OpenedBackend {
  backend: Backend;
  /** One line for a person: which backend, on what. */
  note: string;
}

export async function openBackend(choice: BackendChoice, layout: ParamLayout): Promise<OpenedBackend> {
  if (choice === 'webgpu') throw new InputError('--backend', 'webgpu is not available in this build yet');
  return { backend: new CpuBackend(layout), note: 'backend: cpu' };
}
