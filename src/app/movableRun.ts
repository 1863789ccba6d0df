// One training run that can move between backends while it goes: the GPU failing (a lost device)
// moves it to the CPU at once from its last report, and `auto` finding WebGPU faster moves it there
// at its next report. Either way the run goes on from a report's weights, generator and optimizer
// state (session.ts's ResumePoint, as trainToEnd's Fallback does), so its errors stay those of the
// same run within the backends' tolerance. A stretch of the run on one backend is a segment: the CPU
// worker (runners.ts), or a session on the page (sessionSegment below). No DOM, no workers here.

import { type Backend, type BackendName, GpuFailure } from '../backends/backend.js';
import { asPopulation } from '../backends/population.js';
import type { Run, RunSettings } from '../train/run.js';
import type { EpochProgress } from '../train/trainer.js';
import { describeFailure } from './failure.js';
import type { InsideRequest } from './inside.js';
import type { MemberForecaster } from './memberForecasts.js';
import { runPopulationSession } from './populationSession.js';
import type { RunFailure } from './protocol.js';
import {
  firstStep,
  type ResumePoint,
  RunControl,
  resumePointOf,
  runSession,
  type SessionEnd,
  type SessionOptions,
  type Snapshot,
} from './session.js';

export interface RunEvents {
  onReport(snapshot: Snapshot): void;
  /** How far a long epoch has got (between reports). */
  onProgress(progress: EpochProgress): void;
  /** The run has reached a report and is waiting to be resumed. */
  onPaused(): void;
  onEnded(end: SessionEnd): void;
  onFailed(failure: RunFailure): void;
  /** The run goes on on `to` from its report at `fromEpoch` (0: from the start), for `reason`. */
  onSwitched(reason: string, fromEpoch: number, to: BackendName): void;
}

export interface TrainingRun {
  /** The backend training now. */
  readonly backend: BackendName;
  pause(): void;
  resume(): void;
  /** Stops at once from the page's point of view: no event follows. */
  stop(): void;
  /** Moves a WebGPU run to the CPU now, from its last report (the page heard that the device was lost). */
  fallBack(reason: string): void;
  /** Moves the run to `to` at its next report (or now, while it waits paused); nothing if it is over or there. */
  moveTo(to: BackendName, reason: string): void;
  /** What the Inside view asks for from the next report on (null: nothing), kept across moves. */
  inside(request: InsideRequest | null): void;
}

/** What a segment tells its run; onGpuFailure only from WebGPU segments. */
export interface SegmentEvents extends Omit<RunEvents, 'onSwitched'> {
  /** The GPU failed: the run goes on with the CPU from its last report. */
  onGpuFailure(reason: string): void;
}

export interface Segment {
  pause(): void;
  resume(): void;
  stop(): void;
  inside(request: InsideRequest | null): void;
}

/** Where a segment starts: a report to go on from (none: the run's start), and whether to wait there. */
export interface SegmentStart {
  resume?: ResumePoint;
  paused?: boolean;
  /** What the Inside view asks for at the segment's reports. */
  inside?: InsideRequest | null;
}

export type SegmentStarter = (events: SegmentEvents, from: SegmentStart) => Segment;

/** A run that starts on `first`; `starters` holds each backend that the run may use. */
export function movableRun(
  first: BackendName,
  starters: Partial<Record<BackendName, SegmentStarter>>,
  events: RunEvents,
): TrainingRun {
  return new MovableRun(first, starters, events);
}

/** The run's state across its segments: one segment at a time, each on one backend. */
class MovableRun implements TrainingRun {
  private on: BackendName;
  private over = false;
  /** A person paused the run (the next segment starts paused too). */
  private userPaused = false;
  /** The segment has said that it waits at a report. */
  private waiting = false;
  private move: { to: BackendName; reason: string } | null = null;
  /** The last report before the end: where the next segment goes on from. */
  private last: ResumePoint | undefined;
  private readonly losses: number[] = [];
  private generation = 0;
  private segment!: Segment;
  /** What the Inside view asks for (null: nothing), kept across moves. */
  private insideRequest: InsideRequest | null = null;

  constructor(
    first: BackendName,
    private readonly starters: Partial<Record<BackendName, SegmentStarter>>,
    private readonly events: RunEvents,
  ) {
    this.on = first;
    this.begin(first, {});
  }

  get backend(): BackendName {
    return this.on;
  }

  pause(): void {
    this.userPaused = true;
    // A segment about to move is pausing already.
    if (this.move === null) this.segment.pause();
  }

  resume(): void {
    this.userPaused = false;
    if (this.move !== null) return;
    this.waiting = false;
    this.segment.resume();
  }

  stop(): void {
    this.over = true;
    this.segment.stop();
  }

  fallBack(reason: string): void {
    if (this.over || this.on !== 'webgpu' || this.starters.cpu === undefined) return;
    this.move = { to: 'cpu', reason };
    this.switchNow();
  }

  moveTo(to: BackendName, reason: string): void {
    if (this.over || this.on === to || this.move !== null || this.starters[to] === undefined) return;
    this.move = { to, reason };
    if (this.waiting) this.switchNow();
    else this.segment.pause();
  }

  inside(request: InsideRequest | null): void {
    this.insideRequest = request;
    if (!this.over) this.segment.inside(request);
  }

  private begin(backend: BackendName, from: SegmentStart): void {
    this.waiting = false;
    const start = this.starters[backend];
    if (start === undefined) throw new Error(`no ${backend} backend to run on`);
    this.segment = start(this.segmentEvents(++this.generation), { ...from, inside: this.insideRequest });
  }

  /** The events of segment `mine`: those of a segment that was left (stopped for a move) change nothing. */
  private segmentEvents(mine: number): SegmentEvents {
    const live = () => mine === this.generation && !this.over;
    const { events } = this;
    return {
      onReport: (snapshot) => {
        if (!live()) return;
        this.losses.push(...snapshot.newLosses);
        if (!snapshot.done) this.last = resumePointOf(snapshot, this.losses);
        events.onReport(snapshot);
      },
      onProgress: (progress) => {
        if (live()) events.onProgress(progress);
      },
      onPaused: () => {
        if (!live()) return;
        this.waiting = true;
        if (this.move !== null) this.switchNow();
        else events.onPaused();
      },
      onEnded: (end) => {
        if (!live()) return;
        this.over = true;
        events.onEnded(end);
      },
      onFailed: (failure) => {
        if (!live()) return;
        this.over = true;
        events.onFailed(failure);
      },
      onGpuFailure: (reason) => {
        if (live() && this.on === 'webgpu' && this.starters.cpu !== undefined) {
          this.move = { to: 'cpu', reason };
          this.switchNow();
        }
      },
    };
  }

  private switchNow(): void {
    const { to, reason } = this.move!;
    this.move = null;
    this.segment.stop();
    // Whatever the left segment did after its last report is not kept.
    this.losses.length = this.last?.epoch ?? 0;
    this.on = to;
    this.events.onSwitched(reason, this.last?.epoch ?? 0, to);
    this.begin(to, { resume: this.last, paused: this.userPaused });
  }
}

/**
 * A segment that trains on this thread: `open` makes the backend (the page's WebGPU device, or any
 * backend in a test), runSession drives it. A GpuFailure goes to onGpuFailure (the run moves to the
 * CPU); any other error ends the run with its message. Stop disposes the backend at once, so the
 * GPU's work ends between two slices of an epoch, not at the next report.
 */
export function sessionSegment(
  open: (run: Run) => Promise<Backend>,
  run: () => Run,
  options: SessionOptions,
  events: SegmentEvents,
  from: SegmentStart,
  /**
   * A population's run (Members above 1): `open` gives a population of that many, trained from these
   * settings' seeds; its members' forecasts run in `forecasts` where given (the page's worker).
   */
  population?: { members: number; settings: RunSettings; forecasts?: MemberForecaster },
): Segment {
  let stopped = false;
  let backend: Backend | null = null;
  let inside = from.inside ?? null;
  const control = new RunControl(() => {
    if (!stopped) events.onPaused();
  });
  if (from.paused) control.pause();
  const train = async () => {
    try {
      const made = run();
      backend = await open(made);
      if (stopped) return;
      const onEpochProgress = (progress: EpochProgress) => {
        if (!stopped) events.onProgress(progress);
      };
      onEpochProgress(firstStep(made, options, from.resume));
      const emit = (snapshot: Snapshot) => {
        if (!stopped) events.onReport(snapshot);
      };
      const members = population?.members ?? 1;
      const end =
        members > 1
          ? await runPopulationSession(
              asPopulation(backend),
              made,
              population!.settings,
              { ...options, members, onEpochProgress, forecasts: population?.forecasts },
              control,
              emit,
            )
          : await runSession(
              backend,
              made,
              { ...options, onEpochProgress, inside: () => inside },
              control,
              emit,
              from.resume,
            );
      if (!stopped) events.onEnded(end);
    } catch (err) {
      if (stopped) return;
      if (err instanceof GpuFailure) events.onGpuFailure(`WebGPU failed: ${describeFailure(err).message}`);
      else events.onFailed(describeFailure(err));
    } finally {
      void backend?.dispose();
    }
  };
  void train();
  return {
    pause: () => control.pause(),
    resume: () => control.resume(),
    inside: (request) => {
      inside = request;
    },
    stop: () => {
      stopped = true;
      control.stop();
      void backend?.dispose();
    },
  };
}
