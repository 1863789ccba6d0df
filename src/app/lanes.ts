// The runs on the page as a state machine, one lane per backend of the current run (two in a race).
// A lane is running, pausing (asked to pause, waiting for the next report), paused, or over:
// finished, stopped, diverged or failed. Over is final: nothing that arrives later changes it.
// Each lane keeps what its run produced (the trace the charts draw). No DOM: the page renders it.
//
//   running --pause()--> pausing --paused event--> paused --resume()--> running
//   pausing --resume()--> running
//   running/pausing/paused --stop()--> stopped;  --ended/failed event--> finished/stopped/diverged/failed

import type { BackendName } from '../backends/backend.js';
import type { EpochProgress } from '../train/trainer.js';
import { BACKEND_LABEL, type BackendTrace, emptyTrace, intervalTiming } from './columns.js';
import { addToEnsemble, type EnsembleTrace } from './ensembleBand.js';
import type { InsideRequest } from './inside.js';
import type { RunFailure } from './protocol.js';
import type { RunEvents } from './runners.js';
import type { SessionEnd, Snapshot } from './session.js';

export type LaneStatus = 'running' | 'pausing' | 'paused' | 'finished' | 'stopped' | 'diverged' | 'failed';

const ACTIVE: ReadonlySet<LaneStatus> = new Set(['running', 'pausing', 'paused']);

/** What a lane asks of its run (runners.ts's TrainingRun). */
export interface RunHandle {
  /** The backend training now: a WebGPU run that lost its GPU goes on on the CPU. */
  readonly backend: BackendName;
  pause(): void;
  resume(): void;
  stop(): void;
  fallBack(reason: string): void;
  /** Moves the run to `to` at its next report (auto found it faster). */
  moveTo(to: BackendName, reason: string): void;
  /** What the Inside view asks for at the next reports (null: nothing). */
  inside(request: InsideRequest | null): void;
}

/** What the page does when a lane changes (render, show a notice). */
export interface LaneObserver {
  changed(lane: Lane): void;
  /** The run ended on its own; `end.message` says why when it did not finish. */
  ended(lane: Lane, end: SessionEnd): void;
  failed(lane: Lane, failure: RunFailure): void;
  /** The run went on on `to` from its report at `fromEpoch` (a lost GPU, or auto moving to the faster). */
  switched(lane: Lane, reason: string, fromEpoch: number, to: BackendName): void;
}

export class Lane {
  status: LaneStatus = 'running';
  /** The latest report, or null before the first. */
  last: Snapshot | null = null;
  /** How far the epoch under way has got (from the backend, between reports), or null. */
  progress: EpochProgress | null = null;
  /** Why the run stopped early (a failure, a divergence), or null. */
  failure: string | null = null;
  /** Set when the run went on on another backend: from which epoch. */
  switchedAt: number | null = null;
  /** The backend it went on on (the CPU after a lost GPU; WebGPU when auto found it faster). */
  switchedTo: BackendName | null = null;
  readonly trace: BackendTrace;
  /** A population's run (Members above 1): the members' band and each member's lines; else null. */
  ensemble: EnsembleTrace | null = null;
  readonly run: RunHandle;
  /** When Start was pressed, and when the first training step began (performance.now(), ms). */
  startedAt = performance.now();
  firstStepAt: number | null = null;

  /** `backend` is the one the lane started on (its colour); `run.backend` is the one training now. */
  constructor(
    readonly backend: BackendName,
    /** A forecast with a loaded model, no training. */
    readonly forecastOnly: boolean,
    start: (events: RunEvents) => RunHandle,
    private readonly observer: LaneObserver,
  ) {
    this.trace = emptyTrace(backend);
    this.run = start({
      onReport: (snapshot) => this.whileActive(() => this.report(snapshot)),
      onProgress: (progress) =>
        this.whileActive(() => {
          this.firstStepAt ??= performance.now();
          this.progress = progress;
          this.observer.changed(this);
        }),
      onPaused: () =>
        this.whileActive(() => {
          if (this.status === 'pausing') this.status = 'paused';
          this.observer.changed(this);
        }),
      onEnded: (end) =>
        this.whileActive(() => {
          this.status = end.outcome;
          this.failure = end.message;
          this.observer.ended(this, end);
        }),
      onFailed: (failure) =>
        this.whileActive(() => {
          this.status = 'failed';
          this.failure = failure.message;
          this.observer.failed(this, failure);
        }),
      onSwitched: (reason, fromEpoch, to) => this.whileActive(() => this.switch(reason, fromEpoch, to)),
    });
  }

  get active(): boolean {
    return ACTIVE.has(this.status);
  }

  /** "WebGPU", "WebGPU → CPU" once it went on on the CPU (or "CPU → WebGPU"), or "loaded model" for a forecast. */
  get label(): string {
    if (this.forecastOnly) return 'loaded model';
    const to = this.switchedTo;
    return to === null ? BACKEND_LABEL[this.backend] : `${BACKEND_LABEL[this.backend]} → ${BACKEND_LABEL[to]}`;
  }

  pause(): void {
    if (this.status !== 'running') return;
    this.run.pause();
    this.status = 'pausing';
  }

  resume(): void {
    if (this.status !== 'paused' && this.status !== 'pausing') return;
    this.run.resume();
    this.status = 'running';
  }

  stop(): void {
    if (!this.active) return;
    this.run.stop();
    this.status = 'stopped';
  }

  /** Events of a run that is over change nothing (a run promises none after stop, and this holds it to that). */
  private whileActive(apply: () => void): void {
    if (this.active) apply();
  }

  private report(snapshot: Snapshot): void {
    const previous = this.last ?? { epoch: 0, seconds: 0 };
    this.trace.losses.push(...snapshot.newLosses);
    this.trace.validation = snapshot.validationLosses;
    this.trace.predictions = snapshot.predictions;
    this.trace.predictionsFrom = snapshot.predictionsFrom;
    this.trace.forecast = snapshot.forecast;
    this.trace.forecastFrom = snapshot.forecastFrom;
    this.trace.future = snapshot.future;
    this.ensemble = addToEnsemble(this.ensemble, snapshot);
    if (snapshot.testLoss !== null) {
      // The last snapshot holds the kept weights: the best epoch's where the run keeps it.
      const epoch = snapshot.done && snapshot.best !== null ? snapshot.best.epoch : snapshot.epoch;
      const others = this.trace.test.filter((t) => t.epoch !== epoch);
      this.trace.test = [...others, { epoch, loss: snapshot.testLoss }].sort((a, b) => a.epoch - b.epoch);
    }
    this.trace.best = snapshot.best === null ? null : { epoch: snapshot.best.epoch, loss: snapshot.best.loss };
    // A loaded model's forecast brings its saved history, but no time of its own.
    if (snapshot.epoch > previous.epoch && !this.forecastOnly) {
      this.trace.timing.push(intervalTiming(previous, snapshot, snapshot.stepsPerEpoch));
    }
    this.last = snapshot;
    if (this.progress !== null && this.progress.epoch <= snapshot.epoch) this.progress = null;
    this.observer.changed(this);
  }

  private switch(reason: string, fromEpoch: number, to: BackendName): void {
    this.switchedAt = fromEpoch;
    this.switchedTo = to;
    // What the left backend did after its last report is not kept: the other goes on from there.
    this.trace.losses.length = Math.min(this.trace.losses.length, fromEpoch);
    this.trace.validation = this.trace.validation.filter((v) => v.epoch <= fromEpoch);
    this.trace.test = this.trace.test.filter((v) => v.epoch <= fromEpoch);
    this.trace.timing = this.trace.timing.filter((t) => t.epoch <= fromEpoch);
    this.observer.switched(this, reason, fromEpoch, to);
  }
}

/** What the page's controls show: no run, a run going, or how the last one ended. */
export type RunPhase = 'idle' | 'running' | 'pausing' | 'paused' | 'finished' | 'stopped';

/** The current run's lanes: start replaces them, and the controls act on all of them at once. */
export class RunLanes {
  private current: Lane[] = [];

  get lanes(): readonly Lane[] {
    return this.current;
  }

  /** Stops whatever runs and takes the new lanes. */
  replace(lanes: Lane[]): void {
    this.stop();
    this.current = lanes;
  }

  /** Stops whatever runs and forgets the lanes. */
  clear(): void {
    this.replace([]);
  }

  active(): boolean {
    return this.current.some((lane) => lane.active);
  }

  /** Pauses every running lane; when none runs, resumes the paused ones. */
  pauseOrResume(): void {
    if (this.current.some((lane) => lane.status === 'running')) for (const lane of this.current) lane.pause();
    else for (const lane of this.current) lane.resume();
  }

  stop(): void {
    for (const lane of this.current) lane.stop();
  }

  phase(): RunPhase {
    const lanes = this.current;
    if (lanes.length === 0) return 'idle';
    if (this.active()) {
      if (lanes.some((lane) => lane.status === 'running')) return 'running';
      return lanes.some((lane) => lane.status === 'pausing') ? 'pausing' : 'paused';
    }
    return lanes.every((lane) => lane.status === 'finished') ? 'finished' : 'stopped';
  }
}
