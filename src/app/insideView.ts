// The Inside view: a panel of the Train view that opens and closes. Open, it asks the run for a probe
// at every report (inside.ts) of the window under the pointer on the series chart, and draws what
// comes back (insideCharts.ts): heatmaps, units × steps, of the four gates, the cell state and the
// hidden output of one layer; each gate's saturation scatter; the connectivity per lag beside the AR
// baseline's, with its sentence. Closed, it asks for nothing, and a run probes nothing.
// Counts go into data-* attributes for scripts and tests (a canvas cannot be read back as data).

import { GATE_NAMES, SATURATION_BOUNDS } from '../forecast/inside.js';
import { PROBED, type Probed } from '../model/probe.js';
import { byId, el, setText } from './dom.js';
import type { GateSaturation, InsideReport, InsideRequest } from './inside.js';
import {
  type ColourScale,
  drawConnectivity,
  drawHeatmap,
  drawLegend,
  drawScatter,
  type ScatterPoint,
} from './insideCharts.js';

const TITLE: Record<Probed, string> = {
  forget: 'forget gate',
  input: 'input gate',
  candidate: 'candidate',
  output: 'output gate',
  cell: 'cell state',
  hidden: 'hidden output',
};

/** The scatters: every gate, each against a tenth of its range from either end (SATURATION_BOUNDS). */
const SATURATED = GATE_NAMES;

/** The colour scale each picture shares with those of its range. */
function scaleOf(name: Probed, cellMax: number): ColourScale {
  if (name === 'forget' || name === 'input' || name === 'output') return { kind: 'sequential', min: 0, max: 1 };
  if (name === 'cell') return { kind: 'diverging', min: -cellMax, max: cellMax };
  return { kind: 'diverging', min: -1, max: 1 };
}

export interface InsideEvents {
  /** The request changed (opened, closed, another window): the run hears it before its next report. */
  onRequest(request: InsideRequest | null): void;
}

export class InsideView {
  private readonly toggle = byId('inside-toggle', HTMLButtonElement);
  private readonly body = byId('inside-body', HTMLDivElement);
  private readonly status = byId('inside-status', HTMLParagraphElement);
  private readonly layerChoice = byId('inside-layer-choice', HTMLLabelElement);
  private readonly layerSelect = byId('inside-layer', HTMLSelectElement);
  private readonly maps = byId('inside-maps', HTMLDivElement);
  private readonly scatters = byId('inside-scatter', HTMLDivElement);
  private readonly dead = byId('inside-dead', HTMLParagraphElement);
  private readonly connectivity = byId('inside-connectivity', HTMLCanvasElement);
  private readonly sentence = byId('inside-sentence', HTMLParagraphElement);
  private readonly key = byId('inside-key', HTMLParagraphElement);
  private row: number | null = null;
  private drawn: InsideReport | null = null;
  private drawnEpoch = 0;
  /** The saturation drawn before the latest, per layer and gate ("0/forget"), for the faint trail. */
  private previous = new Map<string, ScatterPoint[]>();
  private current = new Map<string, ScatterPoint[]>();

  constructor(private readonly events: InsideEvents) {
    this.toggle.addEventListener('click', () => this.setOpen(!this.isOpen));
    this.layerSelect.addEventListener('change', () => this.redraw());
  }

  get isOpen(): boolean {
    return this.toggle.getAttribute('aria-expanded') === 'true';
  }

  /** What a run is asked for now: null while the view is closed. */
  request(): InsideRequest | null {
    return this.isOpen ? { row: this.row } : null;
  }

  setOpen(open: boolean): void {
    this.toggle.setAttribute('aria-expanded', String(open));
    this.body.hidden = !open;
    this.events.onRequest(this.request());
    if (open) this.redraw();
  }

  /** The pointer is over the series chart at target row `row`: that window is probed next. */
  choose(row: number): void {
    if (!this.isOpen || row === this.row) return;
    this.row = row;
    this.events.onRequest(this.request());
  }

  /** What is drawn now, and its epoch (null: nothing yet). */
  drawnReport(): { report: InsideReport; epoch: number } | null {
    return this.drawn === null ? null : { report: this.drawn, epoch: this.drawnEpoch };
  }

  /** A new run: nothing drawn, the window back to the last one. */
  clear(): void {
    this.drawn = null;
    this.row = null;
    this.previous.clear();
    this.current.clear();
    this.maps.replaceChildren();
    this.scatters.replaceChildren();
    for (const node of [this.dead, this.sentence, this.key]) setText(node, '');
    setText(
      this.status,
      this.isOpen ? 'Start a run (or forecast with a loaded model): the probe comes at its next report.' : '',
    );
    delete this.body.dataset.row;
  }

  /** Draws `report` (a report's, or a probe taken here after the run), taken at `epoch`; `label` names its row. */
  show(report: InsideReport, epoch: number, label: (row: number) => string): void {
    if (report === this.drawn) return;
    this.drawn = report;
    this.drawnEpoch = epoch;
    if (report.saturation.length > 0) {
      this.previous = this.current;
      this.current = new Map(report.saturation.map((s) => [`${s.layer}/${s.gate}`, pointsOf(s, report.dead)]));
    }
    const layers = report.window.layers.length;
    this.layerChoice.hidden = layers < 2;
    if (this.layerSelect.options.length !== layers) {
      this.layerSelect.replaceChildren(
        ...Array.from({ length: layers }, (_, l) => el('option', { value: String(l) }, [`layer ${l + 1}`])),
      );
    }
    this.body.dataset.row = String(report.row);
    this.body.dataset.epoch = String(epoch);
    const ms = report.ms < 10 ? report.ms.toFixed(1) : report.ms.toFixed(0);
    setText(
      this.status,
      `The window that predicts ${label(report.row)}, at epoch ${epoch} · hover or click the series chart to probe another · ` +
        `saturation and connectivity over ${report.windows} ${report.part === 'train' ? 'training' : 'held-out'} windows · probed in ${ms} ms`,
    );
    this.redraw();
  }

  private redraw(): void {
    const report = this.drawn;
    if (report === null || !this.isOpen) return;
    const l = Math.min(report.window.layers.length - 1, Number(this.layerSelect.value) || 0);
    this.drawMaps(report, l);
    this.drawScatters(l);
    setText(
      this.dead,
      report.dead.length === 0 ? 'No dead units.' : `Dead units (never change): ${report.dead.join(', ')}.`,
    );
    drawConnectivity(this.connectivity, report.connectivity, report.autoregression);
    this.connectivity.dataset.lags = String(report.connectivity.length);
    setText(
      this.key,
      report.autoregression === null
        ? 'Bars: the model’s mean |∂prediction/∂input| at each lag (no AR baseline fit for these data).'
        : 'Blue: the model’s mean |∂prediction/∂input| at each lag · grey: the AR baseline’s |coefficient|.',
    );
    setText(this.sentence, report.sentence);
  }

  private drawMaps(report: InsideReport, l: number): void {
    const layer = report.window.layers[l];
    const T = report.steps;
    const H = layer.hidden.length / T;
    let cellMax = 0;
    for (const c of layer.cell) cellMax = Math.max(cellMax, Math.abs(c));
    if (this.maps.children.length !== PROBED.length) this.maps.replaceChildren(...PROBED.map(figureFor));
    PROBED.forEach((name, k) => {
      const figure = this.maps.children[k] as HTMLElement;
      const [canvas, legend] = figure.querySelectorAll('canvas');
      const scale = scaleOf(name, cellMax || 1);
      drawHeatmap(canvas, layer[name], T, H, scale);
      drawLegend(legend, scale);
      canvas.dataset.values = String(layer[name].filter(Number.isFinite).length);
      canvas.setAttribute('aria-label', `${TITLE[name]}: ${H} units × ${T} steps`);
      const [low, high] = figure.querySelectorAll<HTMLSpanElement>('.legend-end');
      setText(low, formatEnd(scale.min));
      setText(high, formatEnd(scale.max));
    });
  }

  private drawScatters(l: number): void {
    if (this.scatters.children.length !== SATURATED.length) {
      this.scatters.replaceChildren(
        ...SATURATED.map((gate) =>
          el('figure', { class: 'inside-figure' }, [
            el('figcaption', {}, [TITLE[gate]]),
            el('canvas', { class: 'inside-scatter', role: 'img', 'aria-label': `${TITLE[gate]}: saturation per unit` }),
          ]),
        ),
      );
    }
    SATURATED.forEach((gate, k) => {
      const canvas = this.scatters.children[k].querySelector('canvas')!;
      const key = `${l}/${gate}`;
      const points = this.current.get(key) ?? [];
      drawScatter(canvas, points, this.previous.get(key) ?? null, SATURATION_BOUNDS[gate]);
      canvas.dataset.points = String(points.length);
    });
  }
}

function figureFor(name: Probed): HTMLElement {
  return el('figure', { class: 'inside-figure' }, [
    el('figcaption', {}, [TITLE[name]]),
    el('canvas', { class: 'inside-map', role: 'img' }),
    el('div', { class: 'inside-legend' }, [
      el('span', { class: 'legend-end' }),
      el('canvas', { class: 'inside-legend-bar', 'aria-hidden': 'true' }),
      el('span', { class: 'legend-end' }),
    ]),
  ]);
}

function formatEnd(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(2);
}

/** One gate's units as scatter points; a unit named dead ("layer 1 unit 4") is marked. */
function pointsOf(saturation: GateSaturation, dead: readonly string[]): ScatterPoint[] {
  return Array.from(saturation.left, (left, j) => ({
    left,
    right: saturation.right[j],
    dead: dead.includes(`layer ${saturation.layer + 1} unit ${j + 1}`),
  }));
}
