// The Benchmark view: runs the GPU-versus-CPU sweep of src/bench/bench.ts (the CPU cases in a worker,
// the WebGPU cases on the page's device, one backend after the other so neither disturbs the other's
// timings), shows progress, a results table, a chart of steps per second against hidden size (log
// axes, one line per backend and batch), the speed-ups and crossovers, the adapter (saying so when it
// is software emulation), and offers the results as JSON and CSV downloads.

import type { AdapterDescription, BackendName } from '../backends/backend.js';
import { BENCH_METHOD, type BenchOptions, type BenchResult, resultsToCsv, type SweepSpec } from '../bench/bench.js';
import { BENCH_SETTINGS } from '../settings/bench.js';
import {
  BENCH_FIELDS,
  BENCH_METRIC_LABEL,
  type BenchFieldName,
  type BenchMetric,
  benchColumns,
  benchComparison,
  benchJson,
  benchRows,
  benchWarning,
  defaultBenchValues,
  describeAdapter,
  describeBenchChart,
  parseBenchSettings,
} from './benchTable.js';
import { Chart, type ChartSpec, offerPng } from './charts.js';
import { BACKEND_LABEL, type Columns, formatNumber } from './columns.js';
import { byId, downloadText, el, setText } from './dom.js';
import type { GpuAccess } from './gpu.js';
import { cpuSweep, gpuSweep, SweepCancelled, type SweepJob } from './runners.js';

export interface BenchDeps {
  gpu(): GpuAccess | null;
  /** Training runs: a sweep must not start then (it would time two things at once). */
  trainingActive(): boolean;
  /** The sweep started or ended (the Train view's Start button follows). */
  onChange(): void;
}

type BenchPhase = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

const DASHES: number[][] = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

export class BenchView {
  private readonly form = byId('bench-form', HTMLFormElement);
  private readonly backendsBox = byId('bench-backends', HTMLFieldSetElement);
  private readonly backendsError = byId('bench-backends-error', HTMLParagraphElement);
  private readonly warning = byId('bench-warning', HTMLParagraphElement);
  /** Why the sweep cannot start now (a training run), in words beside the button. */
  private readonly blocked = byId('bench-blocked', HTMLParagraphElement);
  private readonly runButton = byId('bench-run', HTMLButtonElement);
  private readonly cancelButton = byId('bench-cancel', HTMLButtonElement);
  private readonly status = byId('bench-status', HTMLParagraphElement);
  private readonly progress = byId('bench-progress', HTMLProgressElement);
  private readonly adapterLine = byId('bench-adapter', HTMLParagraphElement);
  private readonly jsonButton = byId('bench-json', HTMLButtonElement);
  private readonly csvButton = byId('bench-csv', HTMLButtonElement);
  private readonly body = byId('bench-body', HTMLTableSectionElement);
  private readonly speedupTable = byId('bench-speedups', HTMLTableElement);
  private readonly crossoverList = byId('bench-crossovers', HTMLUListElement);
  private readonly summary = byId('bench-summary', HTMLParagraphElement);
  private readonly speedupNote = byId('bench-speedup-note', HTMLParagraphElement);
  private readonly metricSelect = byId('bench-metric', HTMLSelectElement);
  private readonly inputs = new Map<BenchFieldName, HTMLInputElement>();
  private readonly errors = new Map<BenchFieldName, HTMLParagraphElement>();
  private readonly chart: Chart;
  private chartLabels = '';

  private phase: BenchPhase = 'idle';
  private job: SweepJob | null = null;
  private cancelled = false;
  private results: BenchResult[] = [];
  private total = 0;
  /** What the shown results were measured with (for the export). */
  private measured: { spec: SweepSpec; options: BenchOptions; adapter: AdapterDescription | null } | null = null;

  constructor(private readonly deps: BenchDeps) {
    const host = byId('bench-fields', HTMLDivElement);
    const defaults = defaultBenchValues();
    for (const spec of BENCH_FIELDS) {
      const id = `bench-${spec.name}`;
      const input = el('input', {
        id,
        name: spec.name,
        type: 'text',
        inputmode: BENCH_SETTINGS[spec.name].kind === 'whole' ? 'numeric' : 'text',
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': `${id}-hint ${id}-error`,
      });
      input.value = defaults[spec.name];
      input.addEventListener('input', () => this.check(false));
      const error = el('p', { class: 'field-error', id: `${id}-error` });
      host.append(
        el('div', { class: 'field', 'data-field': spec.name }, [
          el('label', { for: id }, [spec.label]),
          input,
          el('p', { class: 'field-hint', id: `${id}-hint` }, [spec.hint]),
          error,
        ]),
      );
      this.inputs.set(spec.name, input);
      this.errors.set(spec.name, error);
    }
    byId('bench-method', HTMLParagraphElement).textContent = BENCH_METHOD;
    this.backendsBox.addEventListener('change', () => this.check(false));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.phase !== 'running') void this.run();
    });
    this.cancelButton.addEventListener('click', () => this.cancel());
    this.metricSelect.addEventListener('change', () => {
      this.chartLabels = '';
      this.render();
    });
    this.jsonButton.addEventListener('click', () => this.export('json'));
    this.csvButton.addEventListener('click', () => this.export('csv'));
    this.chart = new Chart(byId('bench-chart', HTMLDivElement), this.chartSpec([]), [[]], {
      title: 'Training speed by hidden size',
      summaryId: 'bench-summary',
    });
    offerPng('bench-png', this.chart, 'webgpu-lstm-bench.png');
    this.check(false);
  }

  running(): boolean {
    return this.phase === 'running';
  }

  private backends(): BackendName[] {
    return [...this.backendsBox.querySelectorAll<HTMLInputElement>('input[name="bench-backend"]')]
      .filter((box) => box.checked && !box.disabled)
      .map((box) => box.value as BackendName);
  }

  /** Parses the form; shows problems (all, or only where a field is marked) and the CPU warning. */
  private check(showAll: boolean) {
    const values = defaultBenchValues();
    for (const [name, input] of this.inputs) values[name] = input.value;
    const result = parseBenchSettings(values, this.backends());
    const errors = result.ok ? {} : result.errors;
    for (const [name, input] of this.inputs) {
      // While typing, only a field already marked is checked again (so its mark clears when fixed).
      if (!showAll && !input.hasAttribute('aria-invalid')) continue;
      setText(this.errors.get(name)!, errors[name] ?? '');
      if (errors[name] === undefined) input.removeAttribute('aria-invalid');
      else input.setAttribute('aria-invalid', 'true');
    }
    if (showAll || this.backendsError.textContent !== '') setText(this.backendsError, errors.backends ?? '');
    setText(this.warning, result.ok ? (benchWarning(result.spec, result.options) ?? '') : '');
    return result;
  }

  private async run(): Promise<void> {
    const parsed = this.check(true);
    if (!parsed.ok) {
      setText(this.status, 'Not started: fix the settings marked in red.');
      return;
    }
    if (this.deps.trainingActive()) {
      setText(
        this.status,
        'Not started: training is running; stop or finish it first, or both would be timed at once.',
      );
      return;
    }
    const { spec, options } = parsed;
    const gpu = this.deps.gpu();
    if (spec.backends.includes('webgpu') && gpu === null) {
      setText(this.backendsError, 'WebGPU is unavailable here; measure the CPU alone.');
      setText(this.status, 'Not started: WebGPU is unavailable.');
      return;
    }
    this.results = [];
    this.total = spec.backends.length * spec.hidden.length * spec.batch.length;
    this.measured = { spec, options, adapter: gpu?.adapter ?? null };
    this.cancelled = false;
    this.phase = 'running';
    setText(this.status, `Measuring ${this.total} cases…`);
    this.deps.onChange();
    this.render();
    const onResult = (result: BenchResult) => {
      this.results.push(result);
      const what = `${BACKEND_LABEL[result.backend]}, hidden ${result.hidden}, batch ${result.batch}`;
      const outcome =
        result.skipped === null ? `${formatNumber(result.stepsPerSecond)} steps/s` : `skipped (${result.skipped})`;
      setText(this.status, `Measured ${this.results.length} of ${this.total} cases; the last: ${what}, ${outcome}.`);
      this.render();
    };
    try {
      // One backend at a time, in the order listed: the other sits idle while one is timed.
      for (const backend of (['cpu', 'webgpu'] as const).filter((b) => spec.backends.includes(b))) {
        if (this.cancelled) throw new SweepCancelled();
        const part = { ...spec, backends: [backend] };
        this.job = backend === 'cpu' ? cpuSweep(part, options, onResult) : gpuSweep(part, options, gpu!, onResult);
        await this.job.done;
      }
      this.phase = 'done';
      setText(this.status, `Done: ${this.results.length} cases measured.`);
    } catch (err) {
      if (err instanceof SweepCancelled) {
        this.phase = 'cancelled';
        setText(
          this.status,
          `Cancelled after ${this.results.length} of ${this.total} cases; their results stay below.`,
        );
      } else {
        this.phase = 'failed';
        setText(this.status, `The sweep stopped: ${(err as Error).message}. The results so far stay below.`);
      }
    } finally {
      this.job = null;
      this.deps.onChange();
      this.render();
    }
  }

  private cancel(): void {
    this.cancelled = true;
    this.job?.cancel();
    setText(this.status, 'Cancelling (the case being timed finishes first on WebGPU)…');
  }

  private export(kind: 'json' | 'csv'): void {
    if (this.measured === null || this.results.length === 0) return;
    const { spec, options, adapter } = this.measured;
    if (kind === 'json') {
      downloadText('webgpu-lstm-bench.json', benchJson(this.results, adapter, spec, options), 'application/json');
    } else {
      downloadText('webgpu-lstm-bench.csv', resultsToCsv(this.results), 'text/csv');
    }
  }

  private metric(): BenchMetric {
    return this.metricSelect.value === 'samples' ? 'samples' : 'steps';
  }

  private chartSpec(series: { backend: BackendName; batch: number; label: string }[]): ChartSpec {
    const batches = [...new Set(series.map((s) => s.batch))].sort((a, b) => a - b);
    return {
      xLabel: 'hidden size',
      formatX: String,
      formatXTick: (v) => String(Math.round(v)),
      xLog: true,
      series: series.map((s) => ({
        label: s.label,
        color: s.backend,
        dash: DASHES[batches.indexOf(s.batch) % DASHES.length],
        points: true,
        format: formatNumber,
      })),
      axes: [{ scale: 'y', label: BENCH_METRIC_LABEL[this.metric()], log: true }],
      height: 300,
    };
  }

  render(): void {
    const running = this.phase === 'running';
    document.body.dataset.benchPhase = this.phase;
    const training = this.deps.trainingActive();
    this.runButton.disabled = running || training;
    setText(
      this.blocked,
      training
        ? 'A training run is in progress on the Train tab: the sweep can start once it finishes or is stopped, so that the two are not timed at once.'
        : '',
    );
    this.cancelButton.disabled = !running;
    for (const input of this.inputs.values()) input.disabled = running;
    const gpuMissing = this.deps.gpu() === null;
    for (const box of this.backendsBox.querySelectorAll<HTMLInputElement>('input[name="bench-backend"]')) {
      box.disabled = running || (box.value === 'webgpu' && gpuMissing);
    }
    this.progress.hidden = !running;
    this.progress.max = Math.max(1, this.total);
    this.progress.value = this.results.length;
    const adapter = this.measured?.adapter ?? this.deps.gpu()?.adapter ?? null;
    setText(this.adapterLine, describeAdapter(adapter));
    this.adapterLine.dataset.software = adapter === null ? '' : String(adapter.software);
    const exportable = !running && this.results.length > 0;
    this.jsonButton.disabled = !exportable;
    this.csvButton.disabled = !exportable;
    this.renderTable();
    this.renderChart();
    this.renderComparison();
  }

  private renderTable(): void {
    const rows = benchRows(this.results).map((row, i) => {
      const result = this.results[i];
      const cells = [
        row.backend,
        String(row.hidden),
        String(row.batch),
        row.stepsPerSecond,
        row.samplesPerSecond,
        row.msPerStep,
        row.spread,
        row.gflops,
        row.dispatches,
        row.variant,
        row.setupMs,
        row.kernels,
      ];
      const tr = el('tr', {}, [
        el('th', { scope: 'row' }, [cells[0]]),
        ...cells.slice(1).map((text) => el('td', {}, [text])),
        el('td', { class: 'skipped' }, [row.skipped]),
      ]);
      tr.dataset.backend = result.backend;
      tr.dataset.hidden = String(result.hidden);
      tr.dataset.batch = String(result.batch);
      tr.dataset.stepsPerSecond = String(result.stepsPerSecond);
      return tr;
    });
    this.body.replaceChildren(...rows);
  }

  private renderChart(): void {
    const { columns, series } = benchColumns(this.results, this.metric());
    const labels = series.map((s) => s.label).join('|');
    if (labels !== this.chartLabels) {
      this.chartLabels = labels;
      this.chart.setSpec(this.chartSpec(series), columns);
    } else {
      this.chart.setData(columns as Columns);
    }
    const counts: Record<string, number> = {};
    series.forEach((s, i) => {
      counts[s.label] = columns[i + 1].filter((v) => v !== null).length;
    });
    byId('bench-chart', HTMLDivElement).dataset.counts = JSON.stringify(counts);
    setText(
      this.summary,
      this.results.length === 0
        ? 'Run the sweep to see each backend’s training steps per second here.'
        : describeBenchChart(this.results, this.metric()),
    );
  }

  private renderComparison(): void {
    const { hidden, rows, crossovers } = benchComparison(this.results);
    if (rows.length === 0) {
      this.speedupTable.replaceChildren();
      this.crossoverList.replaceChildren();
      setText(
        this.speedupNote,
        this.results.length === 0 ? '' : 'The speed-up appears once both backends have measured the same sizes.',
      );
      return;
    }
    const head = el('thead', {}, [
      el('tr', {}, [
        el('th', { scope: 'col' }, ['batch \\ hidden']),
        ...hidden.map((h) => el('th', { scope: 'col' }, [String(h)])),
      ]),
    ]);
    const body = el(
      'tbody',
      {},
      rows.map((row) =>
        el('tr', { 'data-batch': String(row.batch) }, [
          el('th', { scope: 'row' }, [String(row.batch)]),
          ...row.speedups.map((s) =>
            el('td', { class: s !== null && s > 1 ? 'faster' : '' }, [s === null ? '–' : `${formatNumber(s)}×`]),
          ),
        ]),
      ),
    );
    this.speedupTable.replaceChildren(
      el('caption', { class: 'visually-hidden' }, [
        'WebGPU steps per second over the CPU’s, per batch and hidden size',
      ]),
      head,
      body,
    );
    this.crossoverList.replaceChildren(...crossovers.map((text) => el('li', {}, [text])));
    setText(
      this.speedupNote,
      'WebGPU’s steps per second over the CPU’s at the same size: above 1× WebGPU trains faster (in bold), below 1× the CPU does.',
    );
  }
}
