// The optimizer on the GPU (src/model/optimizer.ts is the reference): each member's optimizer and its
// state (momentum's velocity, Adam's moments) in GPU buffers, and the update after each minibatch step,
// one dispatch over every parameter of every member (optimizer_update.wgsl) after one for the gradient
// norm when a member clips (gradient_norm.wgsl). A member's optimizer, its settings and its learning
// rate are data (MemberSettings, written once per epoch), so one pipeline serves any mix of them.
//
// Legend: K = members, P = parameter count, S = minibatch steps of an epoch.

import { type OptimizerName, type OptimizerSettings, stateArrays } from '../../model/optimizer.js';
import type { GpuCounters } from '../backend.js';
import { type Allocator, uniformStride } from './allocator.js';
import type { DispatchTarget, PlanContext } from './dispatchPlan.js';
import type { KernelTuning } from './tuning.js';

/** Invocations a workgroup of the update and of the gradient norm (SUM_WORKGROUP in workgroup_sum.wgsl). */
const UPDATE_WORKGROUP = 64;
/** Workgroups of the gradient norm's first stage a member at most (the update adds up one partial sum each). */
export const MAX_NORM_PARTIALS = 256;
/** Words of MemberSettings in optimizer_update.wgsl. */
export const MEMBER_SETTINGS_WORDS = 12;
/** MemberSettings.optimizer of each optimizer. */
const OPTIMIZER_CODES: Record<OptimizerName, number> = { sgd: 0, momentum: 1, adam: 2 };

/**
 * Member m's MemberSettings (optimizer_update.wgsl) into `words` (K, MEMBER_SETTINGS_WORDS): its
 * optimizer, learning rate this epoch and the steps it updates in (0: none).
 */
export function writeMemberSettings(
  words: Uint32Array,
  member: number,
  settings: OptimizerSettings,
  learningRate: number,
  steps: number,
): void {
  const at = member * MEMBER_SETTINGS_WORDS;
  const floats = new Float32Array(words.buffer, words.byteOffset + 4 * at, MEMBER_SETTINGS_WORDS);
  const clip = settings.clipNorm !== null;
  floats[0] = learningRate;
  words[at + 1] = OPTIMIZER_CODES[settings.name];
  words[at + 2] = steps;
  words[at + 3] = clip ? 1 : 0;
  floats[4] = settings.clipNorm ?? 0;
  floats[5] = settings.momentum;
  // The complements in double precision, as the CPU backend computes them.
  floats[6] = settings.beta1;
  floats[7] = 1 - settings.beta1;
  floats[8] = settings.beta2;
  floats[9] = 1 - settings.beta2;
  floats[10] = settings.epsilon;
}

/** Each member's optimizer and state: (K, P) a slot (16 bytes where no member uses it), and its step count. */
export class GpuOptimizerState {
  /** (K) */
  readonly settings: readonly OptimizerSettings[];
  /** (K, P) momentum's velocity or Adam's m */
  readonly firstState: GPUBuffer;
  /** (K, P) Adam's v */
  readonly secondState: GPUBuffer;
  /** (K) updates done (Adam's t of the last one), counted on the CPU. */
  readonly steps: number[];
  /** Whether any member clips: the update then needs the gradient norm first. */
  readonly clips: boolean;
  private readonly allocator: Allocator;

  /** Zeroed state for each member's `settings`. */
  constructor(allocator: Allocator, settings: readonly OptimizerSettings[], paramCount: number) {
    this.allocator = allocator;
    this.settings = settings.map((s) => ({ ...s }));
    this.steps = settings.map(() => 0);
    this.clips = settings.some((s) => s.clipNorm !== null);
    const arrays = Math.max(...settings.map((s) => stateArrays(s.name)));
    const bytes = (used: boolean) => (used ? 4 * settings.length * paramCount : 16);
    const usage = GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.firstState = allocator.storage(`optimizer state 0 (K, P)`, bytes(arrays >= 1), usage);
    this.secondState = allocator.storage(`optimizer state 1 (K, P)`, bytes(arrays >= 2), usage);
  }

  /** The arrays of state any member keeps, in the order of OptimizerState.slots. */
  buffers(): GPUBuffer[] {
    const arrays = Math.max(...this.settings.map((s) => stateArrays(s.name)));
    return [this.firstState, this.secondState].slice(0, arrays);
  }

  /**
   * Adam's (c1, c2) = (1 - beta1^t, 1 - beta2^t) of each Adam member's next `steps[m]` updates, into
   * `values` (S, K, 2); other entries are left as they are.
   */
  corrections(values: Float32Array, steps: readonly number[]): void {
    const K = this.settings.length;
    this.settings.forEach((settings, m) => {
      if (settings.name !== 'adam') return;
      const done = this.steps[m];
      for (let s = 0; s < steps[m]; s++) {
        values[2 * (s * K + m)] = 1 - settings.beta1 ** (done + s + 1);
        values[2 * (s * K + m) + 1] = 1 - settings.beta2 ** (done + s + 1);
      }
    });
  }

  release(): void {
    this.allocator.release(this.firstState);
    this.allocator.release(this.secondState);
  }
}

/** What the update reads and writes besides the parameters, gradients and the optimizer's state. */
export interface UpdateBuffers {
  /** (K, MAX_NORM_PARTIALS) the gradient norm's partial sums */
  gradSquares: GPUBuffer;
  /** (S, K, 2) Adam's bias corrections of the epoch's steps */
  corrections: GPUBuffer;
  /** (K) MemberSettings: each member's optimizer, learning rate and steps this epoch */
  members: GPUBuffer;
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
  /** Dispatches a step: 1, or 2 where a member clips. */
  readonly dispatches: number;
  private readonly update: UpdateDispatch;
  private readonly norm: UpdateDispatch | null;
  private readonly members: number;
  private readonly flops: number;
  private readonly counters: GpuCounters;
  private readonly stride: number;
  private readonly offsets = new Uint32Array(1);

  constructor(context: PlanContext, tuning: KernelTuning, state: GpuOptimizerState, buffers: UpdateBuffers) {
    const { pipelines, layout, params, grads } = context;
    const { maxComputeWorkgroupsPerDimension: maxWorkgroupsPerDimension } = context.limits;
    const P = layout.size;
    this.members = context.members;
    this.counters = context.counters;
    this.stride = uniformStride(context.allocator.device);
    this.flops = 2 * P;
    const perWorkgroup = UPDATE_WORKGROUP * tuning.updateParamsPerInvocation;
    const partials = normPartials(P, tuning);
    const { update, norm } = updatePipelines(context, P, partials);
    this.norm = state.clips
      ? {
          pipeline: norm,
          bindGroup: pipelines.bindGroup('gradient_norm', 'gradient norm', {
            grads,
            gradSquares: buffers.gradSquares,
          }),
          workgroups: [partials, 1],
        }
      : null;
    const groups = Math.ceil(P / perWorkgroup);
    const x = Math.min(groups, maxWorkgroupsPerDimension);
    this.update = {
      pipeline: update,
      bindGroup: pipelines.bindGroup('optimizer_update', `update (${tuning.name})`, {
        params,
        grads,
        firstState: state.firstState,
        secondState: state.secondState,
        gradSquares: buffers.gradSquares,
        corrections: buffers.corrections,
        members: buffers.members,
        batchPass: buffers.batchPass,
      }),
      workgroups: [x, Math.ceil(groups / x)],
    };
    this.dispatches = this.norm === null ? 1 : 2;
  }

  /** The update after minibatch step `entry` of the training plan. */
  encode(target: DispatchTarget, entry: number): void {
    const K = this.members;
    if (this.norm !== null) {
      const compute = target.pass(K * this.flops);
      compute.setPipeline(this.norm.pipeline);
      compute.setBindGroup(0, this.norm.bindGroup);
      compute.dispatchWorkgroups(this.norm.workgroups[0], this.norm.workgroups[1], K);
      this.counters.dispatches++;
    }
    this.offsets[0] = entry * this.stride;
    const compute = target.pass(K * this.flops);
    compute.setPipeline(this.update.pipeline);
    compute.setBindGroup(0, this.update.bindGroup, this.offsets, 0, 1);
    compute.dispatchWorkgroups(this.update.workgroups[0], this.update.workgroups[1], K);
    this.counters.dispatches++;
  }
}

/** Workgroups of the gradient norm a member under `tuning` (the update's NORM_PARTIALS). */
function normPartials(P: number, tuning: KernelTuning): number {
  return Math.min(MAX_NORM_PARTIALS, Math.ceil(P / (UPDATE_WORKGROUP * tuning.updateParamsPerInvocation)));
}

/** The update's pipeline over P parameters a member, and the gradient norm's. */
function updatePipelines(
  context: Pick<PlanContext, 'pipelines'>,
  P: number,
  partials: number,
): { update: GPUComputePipeline; norm: GPUComputePipeline } {
  const { pipelines } = context;
  return {
    update: pipelines.pipeline('optimizer_update', 'update', { PARAM_COUNT: P, NORM_PARTIALS: partials }),
    norm: pipelines.pipeline('gradient_norm', 'main', { PARAM_COUNT: P }),
  };
}

/**
 * Builds the update's and the gradient norm's pipelines under each tuning, for P parameters:
 * createWebGpuBackend calls it inside its error scope, so a kernel that does not build fails there
 * rather than at the first epoch.
 */
export function prepareUpdatePipelines(context: Pick<PlanContext, 'pipelines' | 'tunings'>, P: number): void {
  for (const tuning of Object.values(context.tunings)) updatePipelines(context, P, normPartials(P, tuning));
}
