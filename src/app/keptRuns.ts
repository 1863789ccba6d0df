// Every run the Train view started, kept: a record opens for a run when it starts (runStore.ts's
// RunRecord, its data described and fingerprinted), follows its lanes while it goes, takes its model
// file and is written to the browser once it is over; the Runs table (runsView.ts) lists them and the
// runs ticked there come back as overlays for the charts. The Train view says when a run starts,
// renders, and reopens a run's settings; this keeps the rest.

import { fingerprintTable } from '../data/fingerprint.js';
import { modelToJson } from '../lib/files.js';
import { InputError } from '../model/errors.js';
import type { Evaluation } from '../train/evaluate.js';
import { capitalize } from '../util/text.js';
import type { ShownView } from './chartSpecs.js';
import type { CsvChoice } from './dataView.js';
import { downloadText } from './dom.js';
import type { Lane } from './lanes.js';
import { modelOfLane, type ShownRun } from './modelPanel.js';
import { RUN_RECORD_VERSION, type RunRecord, RunStore } from './runStore.js';
import { RunsView } from './runsView.js';
import type { AppBackendChoice } from './settings.js';
import type { Overlay } from './trainCharts.js';

export interface KeptRunsDeps {
  /** The runs overlaid changed, or a run left the table: the charts respec and the page renders. */
  onOverlay(): void;
  /** Something the table shows changed (a run written, removed): the page renders. */
  onChange(): void;
  /** A person asked for a run's settings back. */
  reopen(record: RunRecord): void;
  /** Whether the current run still goes (clearing keeps it). */
  running(): boolean;
}

export class KeptRuns {
  private readonly store = new RunStore();
  /** Every run kept, oldest first; the current one's lanes are live. */
  private records: RunRecord[] = [];
  /** The kept run on the charts, with its lanes, or null. */
  private current: { record: RunRecord; lanes: readonly Lane[] } | null = null;
  /** Runs that are over but not yet written to the browser's storage. */
  private readonly unsavedIds = new Set<string>();
  /** Runs that are over, written at the next render (once their record holds their last report). */
  private readonly toWrite = new Set<RunRecord>();
  private readonly hashes = new WeakMap<object, string>();
  private readonly view: RunsView;

  constructor(private readonly deps: KeptRunsDeps) {
    this.view = new RunsView({
      onOverlay: () => deps.onOverlay(),
      reopen: (record) => deps.reopen(record),
      download: (record) => {
        if (record.model !== null) {
          downloadText(`webgpu-lstm-run-${record.number}.json`, `${record.model}\n`, 'application/json');
        }
      },
      remove: (record) => {
        this.records = this.records.filter((r) => r !== record);
        this.unsavedIds.delete(record.id);
        this.toWrite.delete(record);
        void this.store.delete(record.id).then(() => deps.onChange());
        deps.onOverlay();
      },
      clear: () => {
        this.records = this.current !== null && deps.running() ? [this.current.record] : [];
        this.unsavedIds.clear();
        this.toWrite.clear();
        void this.store.clear().then(() => deps.onChange());
        deps.onOverlay();
      },
    });
    void this.store.open().then((kept) => {
      const mine = new Set(this.records.map((r) => r.id));
      this.records = [...kept.filter((r) => !mine.has(r.id)), ...this.records];
      deps.onChange();
    });
  }

  /** Whether a run that is over is not yet kept in the browser (leaving would lose it). */
  unsaved(): boolean {
    return this.unsavedIds.size > 0;
  }

  /** A new run in the table (written to the browser once it is over). */
  begin(run: ShownRun, choice: AppBackendChoice, lanes: readonly Lane[]): void {
    const { prepared, label, unit } = run.view;
    const record: RunRecord = {
      version: RUN_RECORD_VERSION,
      id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      number: Math.max(0, ...this.records.map((r) => r.number)) + 1,
      startedAt: Date.now(),
      fieldValues: { ...run.fieldValues },
      backendChoice: choice,
      data: {
        label,
        rows: prepared.table.rows,
        hash: this.hashOf(prepared.table),
        outputs: [...prepared.outputs],
        unit,
        comparedOn: run.comparedOn,
        scale: { train: run.scale.train, validation: run.scale.validation },
      },
      baselines: run.baselines.map((b) => ({ label: b.label, rmse: b.errors?.rmse ?? null })),
      lanes: [],
      model: null,
    };
    this.records.push(record);
    this.current = { record, lanes };
  }

  /** No run on the charts any more (reset, reopened): the table keeps it, not as the current one. */
  leave(): void {
    this.current = null;
  }

  /** Only `record` overlaid on the charts (a run reopened). */
  overlayOnly(record: RunRecord): void {
    this.view.overlaid.clear();
    this.view.overlaid.add(record.id);
  }

  /**
   * Once the current run is over: its model goes in its row (from `shown`, the run on the charts)
   * and the run is written to the browser.
   */
  endIfOver(shown: ShownRun | null, csv: CsvChoice | null): void {
    const current = this.current;
    if (current === null || current.lanes.some((lane) => lane.active)) return;
    const { record } = current;
    const lane = current.lanes.find((l) => l.last !== null && !l.forecastOnly);
    if (lane !== undefined && shown !== null && record.model === null) {
      try {
        const kept = modelOfLane(shown, lane, csv);
        if (kept !== null) record.model = JSON.stringify(modelToJson(kept.model));
      } catch (err) {
        // A model beyond float32's range is not offered (the model panel says why on its button).
        if (!(err instanceof InputError)) throw err;
      }
    }
    // Written at the next render, once the record holds the lanes' last report and errors.
    this.unsavedIds.add(record.id);
    this.toWrite.add(record);
    this.deps.onChange();
  }

  /**
   * The table as it stands, the current run's row from its lanes (errors in units from
   * `evaluations`); a run that is over is then written to the browser.
   */
  render(evaluations: ReadonlyMap<Lane, Evaluation>): void {
    const current = this.current;
    if (current !== null) current.record.lanes = current.lanes.map((lane) => laneRecord(lane, evaluations.get(lane)));
    this.view.render(this.records, current?.record.id ?? null, this.note());
    for (const record of this.toWrite) {
      this.toWrite.delete(record);
      void this.store.put(structuredClone(record)).then((written) => {
        if (written) this.unsavedIds.delete(record.id);
        this.deps.onChange();
      });
    }
  }

  /** The runs ticked in the table, but the one on the charts already; predictions only over the same data. */
  overlays(on: ShownView | null): Overlay[] {
    // The data's hash reads every value: only worth it when a run other than the current one is kept.
    if (!this.records.some((record) => record !== this.current?.record)) return [];
    const hash = on === null ? null : this.hashOf(on.view.prepared.table);
    return this.records.flatMap((record) => {
      const color = this.view.colorOf(record.id);
      if (color === null || record === this.current?.record) return [];
      const lane = record.lanes.find((l) => l.trace.losses.length > 0 || l.trace.predictions !== null);
      if (lane === undefined) return [];
      const look = { label: `#${record.number} ${lane.label}`, color, sameData: record.data.hash === hash };
      return [{ ...look, trace: lane.trace, scale: record.data.scale }];
    });
  }

  /** What the table says about keeping runs: nothing while all is well. */
  private note(): string {
    const { problem, persistent } = this.store;
    if (problem === null) return '';
    return persistent
      ? `${capitalize(problem)}; the page asks before you leave.`
      : `Runs are kept while the page is open only: ${problem}.`;
  }

  private hashOf(table: Parameters<typeof fingerprintTable>[0]): string {
    let hash = this.hashes.get(table);
    if (hash === undefined) {
      hash = fingerprintTable(table).hash;
      this.hashes.set(table, hash);
    }
    return hash;
  }
}

/** A lane as its row keeps it. */
function laneRecord(lane: Lane, evaluation: Evaluation | undefined): RunRecord['lanes'][number] {
  const errors = evaluation?.model[evaluation.comparedOn] ?? null;
  const last = lane.last;
  return {
    backend: lane.backend,
    label: lane.label,
    status: lane.forecastOnly && lane.status === 'finished' ? 'forecast' : lane.status,
    epoch: last?.epoch ?? 0,
    epochs: last?.epochs ?? 0,
    seconds: last?.seconds ?? 0,
    steps: last?.steps ?? 0,
    trace: lane.trace,
    errors: errors === null ? null : { rmse: [...errors.rmse], mae: [...errors.mae] },
  };
}
