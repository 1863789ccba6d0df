// A probe on the GPU (src/model/probe.ts): the chosen windows through the kernels that train, and what
// those kernels leave in a workspace copied out for the CPU. The forward is the backend's variant in
// 'predict' mode, as predict() runs it: every forward kernel (lstm_forward*.wgsl, lstm_fused_rows.wgsl)
// keeps each step's gate activations, cell state and hidden output in the workspace for BPTT (gates,
// c, inputs), so the probe reads them there and has no forward of its own. For the connectivity each
// window takes O rows, row w O + o seeded with the one-hot gradient of output o (dense.wgsl's
// SEED_OUTPUTS), and the backward kernels training runs (BPTT, then input_gradients.wgsl at every layer,
// the first too) leave d out[o] / d x in the first layer's dInput. Every resource is made on the first
// probe and kept while later probes fit it: a probe of the same windows at every report makes nothing.
//
// Legend: K = members, n = windows probed, R = rows a window (O with the connectivity, else 1),
//         B = n R rows of the pass, C = capacity, T = window, I = layer input size (I0: the model's),
//         H = hidden size, S = H + I + 1, O = outputSize.
// Staged, member 0's blocks in order (floats): for each layer gates (T, B, 4H), c (T, B, H) and
// inputs (T, B, S) (its y_prev columns are the hidden outputs), then outputs (B, O), then with the
// connectivity the first layer's dInput (T, B, I0).

import { CANDIDATE, FORGET, GATES, INPUT, OUTPUT } from '../../model/layout.js';
import type { LayerProbe, WindowProbe } from '../../model/probe.js';
import { checkBatchFits } from './capacity.js';
import { DispatchPlan, type DispatchTarget, type PlanContext } from './dispatchPlan.js';
import type { Variant } from './tuning.js';
import { GpuWorkspace } from './workspace.js';

/** Plans kept for probes of different sizes (the hovered window, the held-out windows, …). */
const MAX_PLANS = 4;

/** One probe's pass, as loaded: what it encodes, what it stages and how the staged floats read. */
export interface ProbeRun {
  /** Bytes `copy` stages. */
  readonly bytes: number;
  /** The forward (and with the connectivity, the seeded backward) of the probe's rows under `variant`. */
  encode(target: DispatchTarget, variant: Variant): void;
  /** Copies the probed values into `staging` from byte `offset` on. */
  copy(encoder: GPUCommandEncoder, staging: GPUBuffer, offset: number): void;
  /** The windows' probes from the staged floats (`values`, from the float the copy's offset names). */
  read(values: Float32Array): WindowProbe[];
}

/** One region of the staging: `floats` floats from byte `from` of `buffer`. */
interface Region {
  buffer: GPUBuffer;
  from: number;
  floats: number;
}

/** The probe's buffers: a workspace of `capacity` rows a member (a probe's: dInput at the first layer), the windows and their order. */
interface ProbeBuffers {
  capacity: number;
  windows: number;
  workspace: GpuWorkspace;
  /** (n, T, I0) */
  samples: GPUBuffer;
  /** (K, C) row b reads window floor(b / R) */
  order: GPUBuffer;
  /** Bound where the dense kernel's targets are (a probe computes no loss): never read. */
  targets: GPUBuffer;
}

export class ProbePass {
  private readonly context: PlanContext;
  private readonly label: string;
  private buffers: ProbeBuffers | null = null;
  /** The plans over the buffers by rows, the most recently used last (a view may alternate two sizes). */
  private readonly plans = new Map<number, DispatchPlan>();

  /** `label` names the pass's buffers ('probe', 'epoch probe'). */
  constructor(context: PlanContext, label: string) {
    this.context = context;
    this.label = label;
  }

  /**
   * Uploads `count` windows x (count, T, I0) and their order (checked against the device limits,
   * `field` naming the count); grows the buffers where they do not fit. The run it returns encodes
   * and stages that probe; a later load replaces what it encodes.
   */
  load(queue: GPUQueue, x: Float32Array, count: number, connectivity: boolean, field: string): ProbeRun {
    const { layout, members: K } = this.context;
    const { window: T, inputSize: I0, outputSize: O } = layout.config;
    const R = connectivity ? O : 1;
    const B = count * R;
    const buffers = this.buffersFor(B, count, field);
    queue.writeBuffer(buffers.samples, 0, x as Float32Array<ArrayBuffer>, 0, count * T * I0);
    const order = new Uint32Array(K * buffers.capacity);
    for (let m = 0; m < K; m++) {
      for (let b = 0; b < buffers.capacity; b++) order[m * buffers.capacity + b] = Math.floor(Math.min(b, B - 1) / R);
    }
    queue.writeBuffer(buffers.order, 0, order);
    const plan = this.planFor(buffers, B);
    const regions = this.regions(buffers.workspace, B, connectivity);
    const bytes = 4 * regions.reduce((sum, region) => sum + region.floats, 0);
    return {
      bytes,
      encode: (target, variant) => {
        plan.encodeForward(target, 0, variant, 'predict');
        if (connectivity) plan.encodeProbeBackward(target, 0, variant);
      },
      copy: (encoder, staging, offset) => {
        let at = offset;
        for (const { buffer, from, floats } of regions) {
          encoder.copyBufferToBuffer(buffer, from, staging, at, 4 * floats);
          at += 4 * floats;
        }
      },
      read: (values) => readProbes(this.context, values, count, connectivity),
    };
  }

  release(): void {
    for (const plan of this.plans.values()) plan.release();
    this.plans.clear();
    const buffers = this.buffers;
    if (buffers === null) return;
    buffers.workspace.release();
    const { allocator } = this.context;
    for (const buffer of [buffers.samples, buffers.order, buffers.targets]) allocator.release(buffer);
    this.buffers = null;
  }

  /** The buffers for `rows` rows a member over `windows` windows: those made before where they fit. */
  private buffersFor(rows: number, windows: number, field: string): ProbeBuffers {
    const known = this.buffers;
    if (known !== null && known.capacity >= rows && known.windows >= windows) return known;
    const { allocator, layout, limits, members } = this.context;
    const { window: T, inputSize: I0 } = layout.config;
    const capacity = Math.max(rows, known?.capacity ?? 0);
    const sampleRows = Math.max(windows, known?.windows ?? 0);
    checkBatchFits(layout, limits, capacity, sampleRows, field, members);
    this.release();
    const label = this.label;
    const buffers: ProbeBuffers = {
      capacity,
      windows: sampleRows,
      workspace: new GpuWorkspace(allocator, layout, capacity, members, label, true),
      samples: allocator.storage(`${label} samples (n, T, I)`, 4 * sampleRows * T * I0, GPUBufferUsage.COPY_DST),
      order: allocator.storage(`${label} order (K, C)`, 4 * members * capacity, GPUBufferUsage.COPY_DST),
      targets: allocator.storage(`${label} no targets`, 16),
    };
    this.buffers = buffers;
    return buffers;
  }

  /**
   * The plan of passes of `rows` rows over `buffers` (made at a count not seen lately, which makes its
   * uniform and builds its pipelines); the last MAX_PLANS counts' are kept.
   */
  private planFor(buffers: ProbeBuffers, rows: number): DispatchPlan {
    let plan = this.plans.get(rows);
    this.plans.delete(rows);
    if (plan === undefined) {
      const source = { samples: buffers.samples, targets: buffers.targets, order: buffers.order };
      plan = new DispatchPlan(this.context, `${this.label} (${rows} rows)`, buffers.workspace, source, rows, 1);
    }
    this.plans.set(rows, plan);
    for (const [oldest, stale] of this.plans) {
      if (this.plans.size <= MAX_PLANS) break;
      stale.release();
      this.plans.delete(oldest);
    }
    return plan;
  }

  /** What is staged, in the order of the header's list: member 0's blocks (the Backend's one model). */
  private regions(workspace: GpuWorkspace, B: number, connectivity: boolean): Region[] {
    const { layout } = this.context;
    const { window: T, outputSize: O } = layout.config;
    const C = workspace.capacity;
    const regions: Region[] = [];
    layout.layers.forEach(({ inputSize: I, hiddenSize: H }, l) => {
      const { gates, c, inputs } = workspace.layers[l];
      const S = H + I + 1;
      // Steps 1..T of c and of the inputs rows start at row C (params.wgsl's state_row).
      regions.push(
        { buffer: gates, from: 0, floats: T * B * GATES * H },
        { buffer: c, from: 4 * C * H, floats: T * B * H },
        { buffer: inputs, from: 4 * C * S, floats: T * B * S },
      );
    });
    regions.push({ buffer: workspace.outputs, from: workspace.outOffset(0), floats: B * O });
    const dInput = workspace.layers[0].dInput;
    if (connectivity) {
      if (dInput === null) throw new Error("unreachable: a probe's workspace without dInput at the first layer");
      regions.push({ buffer: dInput, from: 0, floats: T * B * layout.config.inputSize });
    }
    return regions;
  }
}

/** The `count` windows' probes from floats staged as the header says. */
function readProbes(context: PlanContext, values: Float32Array, count: number, connectivity: boolean): WindowProbe[] {
  const { layout } = context;
  const { window: T, inputSize: I0, outputSize: O } = layout.config;
  const R = connectivity ? O : 1;
  const B = count * R;
  let at = 0;
  const take = (floats: number) => {
    const part = values.subarray(at, at + floats);
    at += floats;
    return part;
  };
  const layers = layout.layers.map(({ inputSize: I, hiddenSize: H }) => ({
    H,
    S: H + I + 1,
    gates: take(T * B * GATES * H),
    c: take(T * B * H),
    inputs: take(T * B * (H + I + 1)),
  }));
  const outputs = take(B * O);
  const dInput = connectivity ? take(T * B * I0) : null;
  return Array.from({ length: count }, (_, w) => {
    const row = w * R;
    const probed = layers.map(({ H, S, gates, c, inputs }) => {
      const layer: LayerProbe = {
        forget: new Float64Array(T * H),
        input: new Float64Array(T * H),
        candidate: new Float64Array(T * H),
        output: new Float64Array(T * H),
        cell: new Float64Array(T * H),
        hidden: new Float64Array(T * H),
      };
      for (let t = 0; t < T; t++) {
        const r = t * B + row;
        for (let j = 0; j < H; j++) {
          const g = r * GATES * H + j;
          layer.forget[t * H + j] = gates[g + FORGET * H];
          layer.input[t * H + j] = gates[g + INPUT * H];
          layer.candidate[t * H + j] = gates[g + CANDIDATE * H];
          layer.output[t * H + j] = gates[g + OUTPUT * H];
          layer.cell[t * H + j] = c[r * H + j];
          layer.hidden[t * H + j] = inputs[r * S + j];
        }
      }
      return layer;
    });
    const connectivityOf = new Float64Array(dInput === null ? 0 : O * T * I0);
    for (let o = 0; dInput !== null && o < O; o++) {
      for (let t = 0; t < T; t++) {
        const from = (t * B + row + o) * I0;
        connectivityOf.set(dInput.subarray(from, from + I0), (o * T + t) * I0);
      }
    }
    return {
      layers: probed,
      outputs: Float64Array.from(outputs.subarray(row * O, (row + 1) * O)),
      connectivity: connectivityOf,
    };
  });
}
