// The optimizer on the GPU (src/model/optimizer.ts is the reference): its state (momentum's velocity,
// Adam's moments) in GPU buffers, and the update after each minibatch step, one dispatch over every
// parameter (optimizer_update.wgsl) after one for the gradient norm when clipping (gradient_norm.wgsl).
//
// Legend: P = parameter count, S = minibatch steps of an epoch.

import { OPTIMIZERS, type OptimizerSettings, stateArrays } from '../../model/optimizer.js';
import type { GpuCounters } from '../backend.js';
import { type Allocator, uniformStride } from './allocator.js';
import type { DispatchTarget, PlanContext } from './dispatchPlan.js';
import type { PipelineCache } from './pipelines.js';
import type { KernelTuning } from './tuning.js';

/** Invocations a workgroup of the update and of the gradient norm (SUM_WORKGROUP in workgroup_sum.wgsl). */
const UPDATE_WORKGROUP = 64;
/** Workgroups of the gradient norm's first stage at most (the update adds up one partial sum each). */
export const MAX_NORM_PARTIALS = 256;

/** The state an optimizer keeps: stateArrays(name) buffers of P values (16 bytes where unused), and its step. */
export class GpuOptimizerState {
  readonly settings: OptimizerSettings;
  /** (P) momentum's velocity or Adam's m */
  readonly firstState: GPUBuffer;
  /** (P) Adam's v */
  readonly secondState: GPUBuffer;
  /** Updates done (Adam's t of the last one), counted on the CPU since every epoch has the same steps. */
  step = 0;
  private readonly allocator: Allocator;

  /** Zeroed state for `settings`. */
  constructor(allocator: Allocator, settings: OptimizerSettings, paramCount: number) {
    this.allocator = allocator;
    this.settings = settings;
    const arrays = stateArrays(settings.name);
    const bytes = (used: boolean) => (used ? 4 * paramCount : 16);
    const usage = GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.firstState = allocator.storage(`${settings.name} state 0 (P)`, bytes(arrays >= 1), usage);
    this.secondState = allocator.storage(`${settings.name} state 1 (P)`, bytes(arrays >= 2), usage);
  }

  /** The arrays of state the optimizer keeps, in the order of OptimizerState.slots. */
  buffers(): GPUBuffer[] {
    return [this.firstState, this.secondState].slice(0, stateArrays(this.settings.name));
  }

  /** Adam's (c1, c2) = (1 - beta1^t, 1 - beta2^t) for the next `steps` updates, into `values` (S, 2). */
  corrections(values: Float32Array, steps: number): void {
    const { settings } = this;
    if (settings.name !== 'adam') return;
    for (let s = 0; s < steps; s++) {
      values[2 * s] = 1 - settings.beta1 ** (this.step + s + 1);
      values[2 * s + 1] = 1 - settings.beta2 ** (this.step + s + 1);
    }
  }

  release(): void {
    this.allocator.release(this.firstState);
    this.allocator.release(this.secondState);
  }
}

/** What the update reads and writes besides the parameters, gradients and the optimizer's state. */
export interface UpdateBuffers {
  /** (MAX_NORM_PARTIALS) the gradient norm's partial sums */
  gradSquares: GPUBuffer;
  /** (S, 2) Adam's bias corrections of the epoch's steps */
  corrections: GPUBuffer;
  /** EpochParams: the learning rate */
  epoch: GPUBuffer;
  /** (S) PassParams of the training plan: which step's corrections apply */
  batchPass: GPUBuffer;
}

interface UpdateDispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number];
}

/** The update of `state` after each minibatch step of a training plan, shaped by `tuning`. */
export class OptimizerUpdate {
  /** Dispatches a step: 1, or 2 with clipping. */
  readonly dispatches: number;
  private readonly update: UpdateDispatch;
  private readonly norm: UpdateDispatch | null;
  private readonly flops: number;
  private readonly counters: GpuCounters;
  private readonly stride: number;
  private readonly offsets = new Uint32Array(1);

  constructor(context: PlanContext, tuning: KernelTuning, state: GpuOptimizerState, buffers: UpdateBuffers) {
    const { pipelines, layout, params, grads } = context;
    const { maxComputeWorkgroupsPerDimension: maxWorkgroupsPerDimension } = context.limits;
    const { settings } = state;
    const P = layout.size;
    this.counters = context.counters;
    this.stride = uniformStride(context.allocator.device);
    this.flops = 2 * P;
    const perWorkgroup = UPDATE_WORKGROUP * tuning.updateParamsPerInvocation;
    const partials = Math.min(MAX_NORM_PARTIALS, Math.ceil(P / perWorkgroup));
    const { update, norm } = updatePipelines(pipelines, settings, P, partials);
    this.norm =
      norm === null
        ? null
        : {
            pipeline: norm,
            bindGroup: pipelines.bindGroup('gradient_norm', 'gradient norm', {
              grads,
              gradSquares: buffers.gradSquares,
            }),
            workgroups: [partials, 1],
          };
    const groups = Math.ceil(P / perWorkgroup);
    const x = Math.min(groups, maxWorkgroupsPerDimension);
    this.update = {
      pipeline: update,
      bindGroup: pipelines.bindGroup('optimizer_update', `${settings.name} update (${tuning.name})`, {
        params,
        grads,
        firstState: state.firstState,
        secondState: state.secondState,
        gradSquares: buffers.gradSquares,
        corrections: buffers.corrections,
        epoch: buffers.epoch,
        batchPass: buffers.batchPass,
      }),
      workgroups: [x, Math.ceil(groups / x)],
    };
    this.dispatches = norm === null ? 1 : 2;
  }

  /** The update after minibatch step `entry` of the training plan. */
  encode(target: DispatchTarget, entry: number): void {
    if (this.norm !== null) {
      const compute = target.pass(this.flops);
      compute.setPipeline(this.norm.pipeline);
      compute.setBindGroup(0, this.norm.bindGroup);
      compute.dispatchWorkgroups(this.norm.workgroups[0], this.norm.workgroups[1]);
      this.counters.dispatches++;
    }
    this.offsets[0] = entry * this.stride;
    const compute = target.pass(this.flops);
    compute.setPipeline(this.update.pipeline);
    compute.setBindGroup(0, this.update.bindGroup, this.offsets, 0, 1);
    compute.dispatchWorkgroups(this.update.workgroups[0], this.update.workgroups[1]);
    this.counters.dispatches++;
  }
}

/** The update's pipeline for `settings` over P parameters, and the gradient norm's when clipping. */
function updatePipelines(
  pipelines: PipelineCache,
  settings: OptimizerSettings,
  P: number,
  partials: number,
): { update: GPUComputePipeline; norm: GPUComputePipeline | null } {
  const clip = settings.clipNorm !== null;
  const constants: Record<string, number> = { PARAM_COUNT: P, CLIP: clip ? 1 : 0 };
  if (settings.clipNorm !== null) {
    constants.CLIP_NORM = settings.clipNorm;
    constants.NORM_PARTIALS = partials;
  }
  if (settings.name === 'momentum') constants.MOMENTUM = settings.momentum;
  if (settings.name === 'adam') {
    // The complements in double precision, as the CPU backend passes them.
    Object.assign(constants, {
      BETA1: settings.beta1,
      ONE_MINUS_BETA1: 1 - settings.beta1,
      BETA2: settings.beta2,
      ONE_MINUS_BETA2: 1 - settings.beta2,
      EPSILON: settings.epsilon,
    });
  }
  return {
    update: pipelines.pipeline('optimizer_update', settings.name, constants),
    norm: clip ? pipelines.pipeline('gradient_norm', 'main', { PARAM_COUNT: P }) : null,
  };
}

/**
 * Builds the update's pipelines of every optimizer, with and without clipping (and so the gradient
 * norm's), for P parameters: createWebGpuBackend calls it inside its error scope, so a kernel that does
 * not build fails there rather than at the first epoch.
 */
export function prepareUpdatePipelines(pipelines: PipelineCache, settings: OptimizerSettings, P: number): void {
  for (const name of OPTIMIZERS) {
    for (const clipNorm of [null, 1]) updatePipelines(pipelines, { ...settings, name, clipNorm }, P, 1);
  }
}
