// One training run that can move between backends while it goes: the GPU failing (a lost device)
// moves it to the CPU at once from its last report, and `auto` finding WebGPU faster moves it there
// at its next report. Either way the run goes on from a report's weights, generator and optimizer
// state (session.ts's ResumePoint, as trainToEnd's Fallback does), so its errors stay those of the
// same run within the backends' tolerance. A stretch of the run on one backend is a segment: the CPU
// worker (runners.ts), or a session on the page (sessionSegment below). No DOM, no workers here.

import { type Backend, type BackendName, GpuFailure } from '../backends/backend.js';
import type { Run } from '../train/run.js';
import type { EpochProgress } from '../train/trainer.js';
import { describeFailure } from './failure.js';
import type { InsideRequest } from './inside.js';
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
  let on = first;
  let over = false;
  /** A person paused the run (the next segment starts paused too). */
  let userPaused = false;
  /** The segment has said that it waits at a report. */
  let waiting = false;
  let move: { to: BackendName; reason: string } | null = null;
  /** The last report before the end: where the next segment goes on from. */
  let last: ResumePoint | undefined;
  const losses: number[] = [];
  let generation = 0;
  let segment: Segment;
  let inside: InsideRequest | null = null;

  const begin = (backend: BackendName, from: SegmentStart) => {
    const mine = ++generation;
    // Events of a segment that was left (stopped for a move) change nothing.
    const live = () => mine === generation && !over;
    waiting = false;
    const start = starters[backend];
    if (start === undefined) throw new Error(`no ${backend} backend to run on`);
    segment = start(
      {
        onReport: (snapshot) => {
          if (!live()) return;
          losses.push(...snapshot.newLosses);
          if (!snapshot.done) last = resumePointOf(snapshot, losses);
          events.onReport(snapshot);
        },
        onProgress: (progress) => {
          if (live()) events.onProgress(progress);
        },
        onPaused: () => {
          if (!live()) return;
          waiting = true;
          if (move !== null) switchNow();
          else events.onPaused();
        },
        onEnded: (end) => {
          if (!live()) return;
          over = true;
          events.onEnded(end);
        },
        onFailed: (failure) => {
          if (!live()) return;
          over = true;
          events.onFailed(failure);
        },
        onGpuFailure: (reason) => {
          if (live() && on === 'webgpu' && starters.cpu !== undefined) {
            move = { to: 'cpu', reason };
            switchNow();
          }
        },
      },
      { ...from, inside },
    );
  };

  const switchNow = () => {
    const { to, reason } = move!;
    move = null;
    segment.stop();
    // Whatever the left segment did after its last report is not kept.
    losses.length = last?.epoch ?? 0;
    on = to;
    events.onSwitched(reason, last?.epoch ?? 0, to);
    begin(to, { resume: last, paused: userPaused });
  };

  begin(first, {});

  return {
    get backend(): BackendName {
      return on;
    },
    pause: () => {
      userPaused = true;
      // A segment about to move is pausing already.
      if (move === null) segment.pause();
    },
    resume: () => {
      userPaused = false;
      if (move !== null) return;
      waiting = false;
      segment.resume();
    },
    stop: () => {
      over = true;
      segment.stop();
    },
    fallBack: (reason) => {
      if (over || on !== 'webgpu' || starters.cpu === undefined) return;
      move = { to: 'cpu', reason };
      switchNow();
    },
    inside: (request) => {
      inside = request;
      if (!over) segment.inside(request);
    },
    moveTo: (to, reason) => {
      if (over || on === to || move !== null || starters[to] === undefined) return;
      move = { to, reason };
      if (waiting) switchNow();
      else segment.pause();
    },
  };
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
      const end = await runSession(
        backend,
        made,
        { ...options, onEpochProgress, inside: () => inside },
        control,
        (snapshot) => {
          if (!stopped) events.onReport(snapshot);
        },
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
