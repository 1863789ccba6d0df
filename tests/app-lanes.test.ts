// The page's runs as a state machine (src/app/lanes.ts): the controls and the runs' events in any
// order keep every lane in a state the page can show, an ended lane stays ended, the run is asked
// to pause, resume and stop exactly when the lane changes, and the trace keeps what was reported.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lane, type LaneObserver, type LaneStatus, type RunHandle, RunLanes } from '../src/app/lanes.js';
import type { RunEvents } from '../src/app/runners.js';
import type { Snapshot } from '../src/app/session.js';
import type { BackendName } from '../src/backends/backend.js';

/** A run that records what the lane asked of it, and hands the test its events. */
class FakeRun implements RunHandle {
  calls: string[] = [];
  backend: BackendName;
  constructor(
    backend: BackendName,
    readonly events: RunEvents,
  ) {
    this.backend = backend;
  }
  pause() {
    this.calls.push('pause');
  }
  resume() {
    this.calls.push('resume');
  }
  stop() {
    this.calls.push('stop');
  }
  fallBack() {
    this.calls.push('fallBack');
  }
  moveTo() {
    this.calls.push('moveTo');
  }
  inside() {
    this.calls.push('inside');
  }
}

function snapshot(epoch: number, losses: number[]): Snapshot {
  return {
    epoch,
    epochs: 100,
    newLosses: losses,
    validationLosses: [],
    steps: epoch * 5,
    seconds: epoch / 10,
    stepsPerEpoch: 5,
    predictions: new Float32Array(3),
    predictionsFrom: 10,
    forecast: null,
    inside: null,
    forecastFrom: 10,
    future: null,
    testLoss: null,
    params: new Float32Array(2),
    best: null,
    rng: { s: [1, 2, 3, 4] } as unknown as Snapshot['rng'],
    done: false,
  };
}

function observer(log: string[]): LaneObserver {
  return {
    changed: () => log.push('changed'),
    ended: (_, end) => log.push(`ended ${end.outcome}`),
    failed: () => log.push('failed'),
    switched: () => log.push('switched'),
  };
}

function newLane(backend: BackendName = 'cpu', log: string[] = []): { lane: Lane; run: FakeRun } {
  let run: FakeRun | undefined;
  const lane = new Lane(
    backend,
    false,
    (events) => {
      run = new FakeRun(backend, events);
      return run;
    },
    observer(log),
  );
  return { lane, run: run! };
}

type Action =
  | { kind: 'pause' | 'resume' | 'stop' | 'paused' }
  | { kind: 'report'; losses: number }
  | { kind: 'ended'; outcome: 'finished' | 'stopped' | 'diverged' }
  | { kind: 'failed' }
  | { kind: 'switched'; fromEpoch: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>(
    { kind: 'pause' },
    { kind: 'resume' },
    { kind: 'stop' },
    { kind: 'paused' },
    { kind: 'failed' },
  ),
  fc.integer({ min: 1, max: 3 }).map((losses): Action => ({ kind: 'report', losses })),
  fc.constantFrom('finished', 'stopped', 'diverged').map((outcome): Action => ({ kind: 'ended', outcome })),
  fc.integer({ min: 0, max: 20 }).map((fromEpoch): Action => ({ kind: 'switched', fromEpoch })),
);

const FINAL: ReadonlySet<LaneStatus> = new Set(['finished', 'stopped', 'diverged', 'failed']);

describe('the lanes of a run', () => {
  it('moves through pause, resume and stop as the controls ask, asking the run once each', () => {
    const { lane, run } = newLane();
    expect(lane.status).toBe('running');
    lane.pause();
    expect(lane.status).toBe('pausing');
    lane.pause();
    run.events.onPaused();
    expect(lane.status).toBe('paused');
    lane.resume();
    expect(lane.status).toBe('running');
    lane.stop();
    lane.stop();
    expect(lane.status).toBe('stopped');
    expect(run.calls).toEqual(['pause', 'resume', 'stop']);
    // A run promises no events after stop; one that came would change nothing.
    run.events.onEnded({ outcome: 'finished', message: null });
    run.events.onReport(snapshot(10, [1]));
    expect(lane.status).toBe('stopped');
    expect(lane.trace.losses).toEqual([]);
  });

  it('keeps a consistent state whatever the order of controls and events', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        const log: string[] = [];
        const { lane, run } = newLane('webgpu', log);
        let losses = 0;
        let epoch = 0;
        let final: LaneStatus | null = null;
        for (const a of actions) {
          const before = lane.status;
          const calls = run.calls.length;
          switch (a.kind) {
            case 'pause':
              lane.pause();
              expect(lane.status).toBe(before === 'running' ? 'pausing' : before);
              expect(run.calls.length).toBe(calls + (before === 'running' ? 1 : 0));
              break;
            case 'resume':
              lane.resume();
              expect(lane.status).toBe(before === 'paused' || before === 'pausing' ? 'running' : before);
              break;
            case 'stop':
              lane.stop();
              expect(lane.status).toBe(FINAL.has(before) ? before : 'stopped');
              expect(run.calls.slice(calls)).toEqual(FINAL.has(before) ? [] : ['stop']);
              break;
            case 'paused':
              run.events.onPaused();
              expect(lane.status).toBe(before === 'pausing' ? 'paused' : before);
              break;
            case 'report':
              epoch += a.losses;
              run.events.onReport(snapshot(epoch, Array(a.losses).fill(epoch)));
              if (!FINAL.has(before)) losses += a.losses;
              expect(lane.status).toBe(before);
              break;
            case 'ended':
              run.events.onEnded({ outcome: a.outcome, message: a.outcome === 'finished' ? null : 'why' });
              expect(lane.status).toBe(FINAL.has(before) ? before : a.outcome);
              break;
            case 'failed':
              run.events.onFailed({ field: null, message: 'broke' });
              expect(lane.status).toBe(FINAL.has(before) ? before : 'failed');
              break;
            case 'switched':
              run.events.onSwitched('lost', a.fromEpoch, 'cpu');
              if (!FINAL.has(before)) {
                losses = Math.min(losses, a.fromEpoch);
                expect(lane.switchedAt).toBe(a.fromEpoch);
                expect(lane.label).toBe('WebGPU → CPU');
              }
              break;
          }
          // Over is final: once ended, the lane keeps its status.
          if (final !== null) expect(lane.status).toBe(final);
          if (FINAL.has(lane.status)) final = lane.status;
          expect(lane.active).toBe(!FINAL.has(lane.status));
          expect(lane.trace.losses).toHaveLength(losses);
          expect(lane.trace.timing.every((t) => t.epoch <= epoch)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('drives every lane of a race together, and says which phase the controls are in', () => {
    const lanes = new RunLanes();
    expect(lanes.phase()).toBe('idle');
    const gpu = newLane('webgpu');
    const cpu = newLane('cpu');
    lanes.replace([gpu.lane, cpu.lane]);
    expect(lanes.phase()).toBe('running');
    lanes.pauseOrResume();
    expect(lanes.phase()).toBe('pausing');
    gpu.run.events.onPaused();
    cpu.run.events.onPaused();
    expect(lanes.phase()).toBe('paused');
    lanes.pauseOrResume();
    expect(lanes.phase()).toBe('running');
    cpu.run.events.onEnded({ outcome: 'finished', message: null });
    // One lane finished: pausing asks only the other.
    lanes.pauseOrResume();
    expect([gpu.lane.status, cpu.lane.status]).toEqual(['pausing', 'finished']);
    gpu.run.events.onEnded({ outcome: 'finished', message: null });
    expect(lanes.active()).toBe(false);
    expect(lanes.phase()).toBe('finished');
    // Replacing the lanes stops whatever still runs.
    const next = newLane('cpu');
    lanes.replace([next.lane]);
    lanes.clear();
    expect(next.run.calls).toEqual(['stop']);
    expect(lanes.phase()).toBe('idle');
  });

  it('says stopped when a run of the race did not finish', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('finished', 'stopped', 'diverged', 'failed', 'running'), {
          minLength: 1,
          maxLength: 3,
        }),
        (ends) => {
          const lanes = new RunLanes();
          const made = ends.map(() => newLane());
          lanes.replace(made.map((m) => m.lane));
          ends.forEach((end, i) => {
            const { events } = made[i].run;
            if (end === 'failed') events.onFailed({ field: null, message: 'x' });
            else if (end !== 'running') events.onEnded({ outcome: end, message: null });
          });
          const expected = ends.includes('running')
            ? 'running'
            : ends.every((end) => end === 'finished')
              ? 'finished'
              : 'stopped';
          expect(lanes.phase()).toBe(expected);
        },
      ),
    );
  });
});
