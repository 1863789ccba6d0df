// What the WebGPU backend will ask of the device for a model shape and a batch capacity, checked
// against the adapter's limits before anything is allocated, so a size the device cannot hold is a
// clear InputError naming the field and what would fit, not a validation error or a crash later.
//
// Legend: C = batch capacity (rows of the largest pass), N = resident samples, T = window,
//         I = layer input size, H = hidden size, O = outputSize, P = parameter count.

import { InputError } from '../../model/errors.js';
import { describeConfig, GATES, type ModelConfig, type ParamLayout, paramLayout } from '../../model/layout.js';
import type { GpuLimits } from './context.js';
import { MATMUL_TILE } from './tuning.js';
import { denseOutputsLength } from './workspace.js';

interface Need {
  what: string;
  amount: number;
  limitName: keyof GpuLimits;
}

function storageNeeds(layout: ParamLayout, capacity: number, samples: number): Need[] {
  const { window: T, inputSize, outputSize: O } = layout.config;
  const C = capacity;
  const needs: Need[] = [{ what: 'parameters (P)', amount: 4 * layout.size, limitName: 'maxStorageBufferBindingSize' }];
  layout.layers.forEach(({ inputSize: I, hiddenSize: H }, l) => {
    needs.push(
      { what: `lstm[${l}] gates (T, B, 4H)`, amount: 4 * T * C * GATES * H, limitName: 'maxStorageBufferBindingSize' },
      {
        what: `lstm[${l}] inputs ((T+1) B, H+I+1)`,
        amount: 4 * (T + 1) * C * (H + I + 1),
        limitName: 'maxStorageBufferBindingSize',
      },
      { what: `lstm[${l}] input gradient (T, B, I)`, amount: 4 * T * C * I, limitName: 'maxStorageBufferBindingSize' },
      {
        what: `lstm[${l}] input projection workgroups (T*B/${MATMUL_TILE})`,
        amount: Math.ceil((T * C) / MATMUL_TILE),
        limitName: 'maxComputeWorkgroupsPerDimension',
      },
      {
        what: `lstm[${l}] gate workgroups (4H/${MATMUL_TILE})`,
        amount: Math.ceil((GATES * H) / MATMUL_TILE),
        limitName: 'maxComputeWorkgroupsPerDimension',
      },
      {
        what: `lstm[${l}] weight-gradient workgroups ((I+H+1)/${MATMUL_TILE})`,
        amount: Math.ceil((I + H + 1) / MATMUL_TILE),
        limitName: 'maxComputeWorkgroupsPerDimension',
      },
    );
  });
  needs.push(
    { what: 'samples (N, T, I)', amount: 4 * samples * T * inputSize, limitName: 'maxStorageBufferBindingSize' },
    { what: 'targets (N, O)', amount: 4 * samples * O, limitName: 'maxStorageBufferBindingSize' },
    { what: 'dense outputs (2, B, O)', amount: 4 * denseOutputsLength(C, O), limitName: 'maxStorageBufferBindingSize' },
  );
  return needs;
}

function limitOf(limits: GpuLimits, name: keyof GpuLimits): number {
  // A storage binding can be no larger than its buffer.
  if (name === 'maxStorageBufferBindingSize') return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  return limits[name];
}

function firstExcess(layout: ParamLayout, limits: GpuLimits, capacity: number, samples: number): Need | null {
  return storageNeeds(layout, capacity, samples).find((need) => need.amount > limitOf(limits, need.limitName)) ?? null;
}

function describeNeed(need: Need, limits: GpuLimits): string {
  const amount = need.limitName === 'maxComputeWorkgroupsPerDimension' ? need.amount : formatBytes(need.amount);
  const limit = limitOf(limits, need.limitName);
  const allowed = need.limitName === 'maxComputeWorkgroupsPerDimension' ? limit : formatBytes(limit);
  return `needs ${amount} for ${need.what}, more than this adapter's ${need.limitName} (${allowed})`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

/** Largest n in [1, high] with fits(n), given fits is monotone; 0 when even 1 does not fit. */
function largestFitting(high: number, fits: (n: number) => boolean): number {
  if (!fits(1)) return 0;
  let low = 1;
  while (low < high) {
    const mid = Math.floor((low + high + 1) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Throws InputError('hidden') when the model does not fit the device even at batch 1. */
export function checkModelFits(layout: ParamLayout, limits: GpuLimits): void {
  const excess = firstExcess(layout, limits, 1, 1);
  if (excess === null) return;
  const { config } = layout;
  const capped = (h: number): ModelConfig => ({
    ...config,
    hiddenSizes: config.hiddenSizes.map((x) => Math.min(x, h)),
  });
  const largest = largestFitting(
    Math.max(...config.hiddenSizes),
    (h) => firstExcess(paramLayout(capped(h)), limits, 1, 1) === null,
  );
  const possible =
    largest > 0
      ? `at most ${largest} hidden units a layer fit at window ${config.window}`
      : `no hidden size fits at window ${config.window}`;
  throw new InputError(
    'hidden',
    `[${config.hiddenSizes.join(', ')}] (${describeConfig(config)}) ${describeNeed(excess, limits)}; ${possible}`,
  );
}

/**
 * Throws InputError(field) when passes of `capacity` rows over `samples` resident samples do not fit.
 * `field` names what the user chose that sets the capacity (batch, count, points…).
 */
export function checkBatchFits(
  layout: ParamLayout,
  limits: GpuLimits,
  capacity: number,
  samples: number,
  field: string,
): void {
  const excess = firstExcess(layout, limits, capacity, samples);
  if (excess === null) return;
  const largest = largestFitting(capacity, (n) => firstExcess(layout, limits, n, Math.min(n, samples)) === null);
  throw new InputError(
    field,
    `${capacity} rows a pass (over ${samples} samples) ${describeNeed(excess, limits)}; at most ${largest} fit for this model`,
  );
}
