// What the WebGPU backend will ask of the device for a model shape, a batch capacity and K members,
// checked against the adapter's limits before anything is allocated, so a size the device cannot hold
// is a clear InputError naming the field and what would fit, not a validation error or a crash later.
// Every buffer with a member dimension is K times a member's; the samples are shared.
//
// Legend: K = members, C = batch capacity (rows of the largest pass), N = resident samples,
//         T = window, I = layer input size, H = hidden size, O = outputSize, P = parameter count.

import { InputError } from '../../model/errors.js';
import { describeConfig, GATES, type ModelConfig, type ParamLayout, paramLayout } from '../../model/layout.js';
import type { GpuLimits } from './context.js';
import { MAX_NORM_PARTIALS } from './optimizerUpdate.js';
import { MATMUL_TILE } from './tuning.js';
import { denseOutputsLength, INPUTS_PAD } from './workspace.js';

interface Need {
  what: string;
  amount: number;
  limitName: keyof GpuLimits;
}

function storageNeeds(layout: ParamLayout, capacity: number, samples: number, members: number): Need[] {
  const { window: T, inputSize, outputSize: O } = layout.config;
  const C = capacity;
  const K = members;
  const bytes = 'maxStorageBufferBindingSize';
  const needs: Need[] = [
    { what: 'members (K) of a grid', amount: K, limitName: 'maxComputeWorkgroupsPerDimension' },
    { what: 'parameters (K, P)', amount: 4 * K * layout.size, limitName: bytes },
    { what: 'gradient norm partial sums (K, W)', amount: 4 * K * MAX_NORM_PARTIALS, limitName: bytes },
    // An epoch's readback holds every member's weights and 2 x 256 epochs of errors.
    { what: 'epoch readback (K, P)', amount: 4 * K * (layout.size + 512), limitName: 'maxBufferSize' },
  ];
  layout.layers.forEach(({ inputSize: I, hiddenSize: H }, l) => {
    needs.push(
      { what: `lstm[${l}] gates (K, T, B, 4H)`, amount: 4 * K * T * C * GATES * H, limitName: bytes },
      {
        what: `lstm[${l}] inputs (K, (T+1) B, H+I+1)`,
        amount: 4 * (K * (T + 1) * C * (H + I + 1) + INPUTS_PAD),
        limitName: bytes,
      },
      { what: `lstm[${l}] input gradient (K, T, B, I)`, amount: 4 * K * T * C * I, limitName: bytes },
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
    { what: 'samples (N, T, I)', amount: 4 * samples * T * inputSize, limitName: bytes },
    { what: 'targets (N, O)', amount: 4 * samples * O, limitName: bytes },
    { what: 'dense outputs (K, 2, B, O)', amount: 4 * K * (denseOutputsLength(C, O) + 1), limitName: bytes },
  );
  return needs;
}

function limitOf(limits: GpuLimits, name: keyof GpuLimits): number {
  // A storage binding can be no larger than its buffer.
  if (name === 'maxStorageBufferBindingSize') return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  return limits[name];
}

function firstExcess(
  layout: ParamLayout,
  limits: GpuLimits,
  capacity: number,
  samples: number,
  members: number,
): Need | null {
  const needs = storageNeeds(layout, capacity, samples, members);
  return needs.find((need) => need.amount > limitOf(limits, need.limitName)) ?? null;
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

/**
 * Throws InputError('hidden') when one model does not fit the device even at batch 1, and
 * InputError('members') when it does but `members` of it do not.
 */
export function checkModelFits(layout: ParamLayout, limits: GpuLimits, members = 1): void {
  checkMembersNumber(members);
  const excess = firstExcess(layout, limits, 1, 1, 1);
  if (excess === null) {
    checkMembersFit(layout, limits, 1, 1, members);
    return;
  }
  const { config } = layout;
  const capped = (h: number): ModelConfig => ({
    ...config,
    hiddenSizes: config.hiddenSizes.map((x) => Math.min(x, h)),
  });
  const largest = largestFitting(
    Math.max(...config.hiddenSizes),
    (h) => firstExcess(paramLayout(capped(h)), limits, 1, 1, 1) === null,
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
 * Throws InputError(field) when passes of `capacity` rows over `samples` resident samples do not fit
 * one model, and InputError('members') when they do but not for `members` of it. `field` names what
 * the user chose that sets the capacity (batch, count, points…).
 */
export function checkBatchFits(
  layout: ParamLayout,
  limits: GpuLimits,
  capacity: number,
  samples: number,
  field: string,
  members = 1,
): void {
  const excess = firstExcess(layout, limits, capacity, samples, 1);
  if (excess === null) {
    checkMembersFit(layout, limits, capacity, samples, members);
    return;
  }
  const largest = largestFitting(capacity, (n) => firstExcess(layout, limits, n, Math.min(n, samples), 1) === null);
  throw new InputError(
    field,
    `${capacity} rows a pass (over ${samples} samples) ${describeNeed(excess, limits)}; at most ${largest} fit for this model`,
  );
}

/** Throws InputError('members') unless `members` is a whole number of at least 1. */
function checkMembersNumber(members: number): void {
  if (!Number.isInteger(members) || members < 1) {
    throw new InputError('members', `expected a whole number of at least 1, got ${members}`);
  }
}

/** Throws InputError('members') when `members` models with passes of `capacity` rows do not fit (one does). */
function checkMembersFit(
  layout: ParamLayout,
  limits: GpuLimits,
  capacity: number,
  samples: number,
  members: number,
): void {
  const excess = firstExcess(layout, limits, capacity, samples, members);
  if (excess === null) return;
  const largest = largestFitting(members, (k) => firstExcess(layout, limits, capacity, samples, k) === null);
  throw new InputError(
    'members',
    `${members} members at ${capacity} rows a pass ${describeNeed(excess, limits)}; at most ${largest} fit for this model`,
  );
}
