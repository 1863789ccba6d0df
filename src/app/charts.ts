// uPlot charts that only draw: a ChartSpec says which series there are (label, colour role, dash,
// scale), the columns come ready-made from columns.ts. A chart follows its container's width and
// is rebuilt when its series change or the colour scheme flips (uPlot bakes colours into its options).
// What every chart shares lives here: legend markers drawn like their lines (solid, dashed, dotted),
// tick labels from ticks.ts, axes as wide as their widest tick so titles never overlap them, x ticks
// spaced by their widest label, the canvas described by the chart's summary (aria-describedby), the
// ticks as drawn published in data-axes for tests, and the chart as a PNG with its title and legend.
// A series longer than the chart is wide is drawn thinned to a few rows a pixel column (thinning.ts;
// the rows drawn are published in data-drawn-rows).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Columns } from './columns.js';
import { byId, downloadBlob } from './dom.js';
import { keptRows, pickRows } from './thinning.js';
import { dropRepeatedDays, linearTicks, logTick, ROW_INCREMENTS, wholeRowSplits } from './ticks.js';

/** Colour roles; the values live in styles.css as --chart-<role> and follow the colour scheme. */
export type ColorRole = 'data' | 'webgpu' | 'cpu' | 'webgpu-alt' | 'cpu-alt' | `run-${number}`;

/** One line of a chart: its legend label, colour role and style. */
export interface ChartSeries {
  label: string;
  color: ColorRole;
  dash?: number[];
  width?: number;
  /** Draw a dot at every value (for measured data). */
  points?: boolean;
  /** The y scale: 'y' (left axis) unless given. */
  scale?: string;
  format?: (value: number) => string;
  /**
   * A benchmark's level: it never widens the y range, which follows the other series (so a far-off
   * benchmark cannot squash them flat); when outside, it is marked at the edge with its value.
   */
  benchmark?: boolean;
}

export interface AxisSpec {
  scale: string;
  label: string;
  /** A shorter title, used where `label` would not fit along the axis. */
  shortLabel?: string;
  /** Left (default) or right. */
  side?: 'left' | 'right';
  log?: boolean;
}

/** A vertical line across the plot, e.g. where the held-out part of a series begins. */
export interface MarkerSpec {
  x: number;
  label: string;
}

export interface ChartSpec {
  xLabel: string;
  /** The x value as the legend shows it. */
  formatX: (value: number) => string;
  /**
   * The x axis' tick labels (dates, say; a '\n' breaks a label over two lines): on a linear x axis
   * ticks then fall on whole rows and are spaced by the widest label. Plain numbers when absent.
   */
  formatXTick?: (value: number) => string;
  /** A log-2 x axis (sizes that double). */
  xLog?: boolean;
  marker?: MarkerSpec | null;
  series: ChartSeries[];
  /** Shaded bands between two series (indexes as uPlot's: series[i] is i + 1), e.g. an ensemble's spread. */
  bands?: { lower: number; upper: number; color: ColorRole }[];
  axes: AxisSpec[];
  height: number;
}

/** What the page says about a chart: its title (the PNG's heading) and the id of its summary in words. */
export interface ChartText {
  title: string;
  summaryId: string;
}

/** One axis' ticks as last drawn, in CSS pixels, for tests (a canvas cannot be read back). */
export interface DrawnAxis {
  label: string;
  /** The title's width across, and the length of the axis it runs along (the title must fit in it). */
  titleWidth: number;
  length: number;
  side: 'bottom' | 'left' | 'right';
  /** The axis' breadth for its tick labels (title excluded). */
  size: number;
  ticks: { text: string; value: number; at: number; width: number }[];
}

const FONT_PX = 12;
const TICK_SIZE = 6;
const AXIS_GAP = 5;
/** Least space between two x tick labels. */
const LABEL_GAP = 14;

export function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** A colour of the scheme, see-through (a band's fill). */
function translucent(color: string): string {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}33` : 'rgba(128, 128, 128, 0.2)';
}

function fontFamily(): string {
  return getComputedStyle(document.body).fontFamily;
}

/** The CSS pixels a tick label takes across: its widest line. */
function textWidth(ctx: CanvasRenderingContext2D, font: string, text: string): number {
  ctx.save();
  ctx.font = font;
  const width = Math.max(0, ...text.split('\n').map((line) => ctx.measureText(line).width));
  ctx.restore();
  return width;
}

/** A legend marker like the line it stands for: its colour, width and dash (and a dot for points). */
export function markerImage(series: ChartSeries, color: string): string {
  const dash = series.dash && series.dash.length > 0 ? ` stroke-dasharray='${series.dash.join(' ')}'` : '';
  const width = Math.max(2, series.width ?? 2);
  const dot = series.points ? `<circle cx='14' cy='6' r='3' fill='${color}'/>` : '';
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' width='28' height='12'><line x1='0' y1='6' x2='28' y2='6' stroke='${color}' stroke-width='${width}'${dash}/>${dot}</svg>`;
  return `url("data:image/svg+xml,${encodeURIComponent(svg)}") center / 28px 12px no-repeat`;
}

/** Ticks and sizes as they were last computed, per axis index (uPlot's own are private). */
interface TickRecord {
  splits: (number | null)[];
  texts: string[];
  /** The axis' breadth for its tick labels, as last sized. */
  size: number;
}

/** What every axis shares: the colour scheme's axis and grid colours and the page's fonts, as they are now. */
interface AxisLook {
  axisColor: string;
  gridColor: string;
  font: string;
  labelFont: string;
}

function axisLook(): AxisLook {
  const family = fontFamily();
  return {
    axisColor: cssColor('--chart-axis'),
    gridColor: cssColor('--chart-grid'),
    font: `${FONT_PX}px ${family}`,
    labelFont: `600 ${FONT_PX}px ${family}`,
  };
}

/** An axis' stroke, grid, ticks and fonts, titled `label`. */
function axisBase(look: AxisLook, label: string): uPlot.Axis {
  return {
    stroke: look.axisColor,
    grid: { stroke: look.gridColor, width: 1 },
    ticks: { stroke: look.gridColor, width: 1, size: TICK_SIZE },
    gap: AXIS_GAP,
    label,
    labelFont: look.labelFont,
    font: look.font,
    labelSize: 20,
  };
}

/** Keeps each axis' ticks (as uPlot labels them) and size (as uPlot sizes it) in `ticks`, by axis index. */
interface TickRecorder {
  /** Records the axis' tick texts; returns them. */
  texts(index: number, splits: (number | null)[], texts: string[]): string[];
  /** Records the axis' size; returns it. */
  size(index: number, size: number): number;
}

function tickRecorder(ticks: TickRecord[]): TickRecorder {
  return {
    texts: (index, splits, texts) => {
      ticks[index] = { splits, texts, size: ticks[index]?.size ?? 0 };
      return texts;
    },
    size: (index, size) => {
      ticks[index] = { splits: ticks[index]?.splits ?? [], texts: ticks[index]?.texts ?? [], size };
      return size;
    },
  };
}

/** The y range of a scale from its series but the benchmarks (null: uPlot's own, from every series). */
export type FitRange = (scale: string) => [number, number] | null;

function options(spec: ChartSpec, width: number, ticks: TickRecord[], rangeOf: FitRange): uPlot.Options {
  const look = axisLook();
  const recorder = tickRecorder(ticks);
  const scales: uPlot.Scales = { x: spec.xLog ? { time: false, distr: 3, log: 2 } : { time: false } };
  for (const axis of spec.axes) {
    scales[axis.scale] = axis.log ? { distr: 3, log: 10 } : { distr: 1 };
    if (spec.series.some((s) => s.benchmark && (s.scale ?? 'y') === axis.scale)) {
      // uPlot's own range from every series; with no values at all (a run's first moments), a unit range.
      const own = (min: number | null, max: number | null): [number, number] => {
        if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
          return axis.log ? [1, 10] : [0, 1];
        }
        return (axis.log ? uPlot.rangeLog(min, max, 10, true) : uPlot.rangeNum(min, max, 0.1, true)) as [
          number,
          number,
        ];
      };
      // The fitted series' own extent, widened as uPlot widens any (whole decades on a log axis,
      // whose ticks need them).
      scales[axis.scale].range = (_u, min, max) => {
        const fitted = rangeOf(axis.scale);
        return fitted === null ? own(min, max) : own(fitted[0], fitted[1]);
      };
    }
  }
  return {
    width,
    height: spec.height,
    scales,
    legend: {
      live: true,
      markers: {
        width: 0,
        fill: (_u, i) => markerImage(spec.series[i - 1], cssColor(`--chart-${spec.series[i - 1].color}`)),
      },
    },
    cursor: { drag: { x: true, y: false }, points: { size: 7 } },
    axes: [
      xAxis(spec, look, recorder),
      ...spec.axes.map((axis, k) => yAxis(axis, k + 1, look, recorder, plotHeight(spec))),
    ],
    ...(spec.bands && spec.bands.length > 0
      ? {
          bands: spec.bands.map((b) => ({
            series: [b.upper, b.lower] as [number, number],
            fill: translucent(cssColor(`--chart-${b.color}`)),
          })),
        }
      : {}),
    hooks: spec.marker ? { draw: [(u: uPlot) => drawMarker(u, spec.marker!, look.axisColor, look.font)] } : {},
    series: [
      { label: spec.xLabel, value: (_u, v) => (v == null ? '–' : spec.formatX(v)) },
      ...spec.series.map(
        (s): uPlot.Series => ({
          label: s.label,
          stroke: cssColor(`--chart-${s.color}`),
          width: s.width ?? 2,
          dash: s.dash,
          scale: s.scale ?? 'y',
          spanGaps: true,
          points: s.points ? { show: true, size: 5, fill: cssColor(`--chart-${s.color}`) } : { show: false },
          value: (_u, v) => (v == null ? '–' : (s.format ?? String)(v)),
        }),
      ),
    ],
  };
}

/**
 * The x axis (index 0): as tall as its labels' lines; with formatXTick on a linear axis, ticks on
 * whole rows spaced by the widest label.
 */
function xAxis(spec: ChartSpec, look: AxisLook, recorder: TickRecorder): uPlot.Axis {
  const lines = (values: string[] | null) => Math.max(1, ...(values ?? []).map((v) => v.split('\n').length));
  const formatXTick = spec.formatXTick;
  return {
    ...axisBase(look, spec.xLabel),
    size: (_u, values) => recorder.size(0, TICK_SIZE + AXIS_GAP + lines(values) * Math.ceil(FONT_PX * 1.5) + 2),
    values: (_u, splits, _axis, _space, increment) =>
      recorder.texts(
        0,
        splits,
        formatXTick
          ? dropRepeatedDays(splits.map((v) => (v == null ? '' : formatXTick(v))))
          : linearTicks(splits, increment),
      ),
    ...(formatXTick && !spec.xLog
      ? {
          incrs: ROW_INCREMENTS,
          splits: (_u: uPlot, _axis: number, min: number, max: number, increment: number) =>
            wholeRowSplits(min, max, increment),
          // Ticks at least the widest label (among a sample of the rows in view) apart.
          space: (u: uPlot, _axis: number, min: number, max: number) => {
            let widest = 0;
            const from = Math.max(0, Math.ceil(min));
            const step = Math.max(1, Math.floor((max - from) / 40));
            for (let v = from; v <= max; v += step)
              widest = Math.max(widest, textWidth(u.ctx, look.font, formatXTick(v)));
            return Math.max(40, widest + LABEL_GAP);
          },
        }
      : {}),
  };
}

/** About how tall the plot is (a y axis' title runs along it): the chart less its x axis and padding. */
function plotHeight(spec: ChartSpec): number {
  const xAxis = TICK_SIZE + AXIS_GAP + Math.ceil(FONT_PX * 1.5) * (spec.formatXTick ? 2 : 1) + 2 + 20;
  return spec.height - xAxis - 12;
}

let measuring: CanvasRenderingContext2D | null = null;

/** A y axis' title that fits along it: the label, else its short form, else the label cut with an ellipsis. */
export function fittedTitle(axis: AxisSpec, length: number, font: string): string {
  measuring ??= document.createElement('canvas').getContext('2d');
  if (measuring === null) return axis.shortLabel ?? axis.label;
  const fits = (text: string) => textWidth(measuring!, font, text) <= length;
  if (fits(axis.label)) return axis.label;
  if (axis.shortLabel !== undefined && fits(axis.shortLabel)) return axis.shortLabel;
  let text = axis.shortLabel ?? axis.label;
  while (text.length > 1 && !fits(`${text}…`)) text = text.slice(0, -1);
  return `${text.trimEnd()}…`;
}

/** A y axis (`index` 1, 2, …): as wide as its widest tick label plus the tick and the gap, so the title sits clear. */
function yAxis(axis: AxisSpec, index: number, look: AxisLook, recorder: TickRecorder, length: number): uPlot.Axis {
  const fitWidth = (u: uPlot, values: string[] | null) =>
    Math.ceil(TICK_SIZE + AXIS_GAP + Math.max(16, ...(values ?? []).map((v) => textWidth(u.ctx, look.font, v))) + 4);
  return {
    ...axisBase(look, fittedTitle(axis, length, look.labelFont)),
    scale: axis.scale,
    side: axis.side === 'right' ? 1 : 3,
    grid: { stroke: look.gridColor, width: 1, show: axis.side !== 'right' },
    size: (u, values) => recorder.size(index, fitWidth(u, values)),
    values: (_u, splits, _axis, _space, increment) =>
      recorder.texts(index, splits, axis.log ? splits.map(logTick) : linearTicks(splits, increment)),
  };
}

/** The marker as a dashed line with its label at the top, drawn on the canvas (text, never markup). */
function drawMarker(u: uPlot, marker: MarkerSpec, color: string, font: string): void {
  const x = u.valToPos(marker.x, 'x', true);
  const { top, height, left, width } = u.bbox;
  if (!(x >= left && x <= left + width)) return;
  const ctx = u.ctx;
  const ratio = devicePixelRatio || 1;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = ratio;
  ctx.setLineDash([4 * ratio, 4 * ratio]);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + height);
  ctx.stroke();
  ctx.font = font.replace(/^(\d+)px/, (_m, px) => `${Number(px) * ratio}px`);
  ctx.textBaseline = 'top';
  ctx.fillText(marker.label, x + 4 * ratio, top + 4 * ratio);
  ctx.restore();
}

export class Chart {
  private plot: uPlot | null = null;
  private spec: ChartSpec;
  /** Every row, as drawable() leaves it. */
  private columns: Columns;
  /** The rows drawn at the current width (thinning.ts), or null for all of them. */
  private kept: number[] | null = null;
  private readonly resizer: ResizeObserver;
  private ticks: TickRecord[] = [];
  /** Rows from..to (inclusive) shaded on the plot (the Inside view's window), or null. */
  private band: { from: number; to: number } | null = null;
  /** Told the data row under the pointer (hover, or a tap), as the columns number it. */
  private pointer: ((row: number) => void) | null = null;

  constructor(
    private readonly host: HTMLElement,
    spec: ChartSpec,
    columns: Columns,
    private text: ChartText,
  ) {
    this.spec = spec;
    this.columns = drawable(spec, columns);
    this.resizer = new ResizeObserver(() => this.fitWidth());
    this.resizer.observe(host);
    this.rebuild();
  }

  /** New series (a different set of backends, a log scale switched on or off). */
  setSpec(spec: ChartSpec, columns: Columns): void {
    this.spec = spec;
    this.columns = drawable(spec, columns);
    this.rebuild();
  }

  setData(columns: Columns): void {
    this.columns = drawable(this.spec, columns);
    const wasThinned = this.kept !== null;
    this.kept = keptRows(this.columns, this.width());
    // Markers come and go with thinning (they are options), so a change of it rebuilds.
    if (this.plot === null || columns.length !== this.spec.series.length + 1 || wasThinned !== (this.kept !== null)) {
      this.rebuild();
    } else {
      this.plot.setData(pickRows(this.columns, this.kept) as uPlot.AlignedData);
      this.publishDrawnRows();
    }
  }

  /** Calls `listener` with the data row under the pointer whenever it moves to another. */
  onPointer(listener: (row: number) => void): void {
    this.pointer = listener;
  }

  /** Shades rows from..to (inclusive; null: none), redrawing only when they change. */
  setBand(band: { from: number; to: number } | null): void {
    if (band?.from === this.band?.from && band?.to === this.band?.to) return;
    this.band = band;
    this.host.dataset.band = band === null ? '' : `${band.from}-${band.to}`;
    this.plot?.redraw(false);
  }

  private shadeBand(u: uPlot): void {
    const band = this.band;
    const xs = this.columns[0];
    if (band === null || xs[band.from] == null || xs[band.to] == null) return;
    const left = u.valToPos(xs[band.from] as number, 'x', true);
    const right = u.valToPos(xs[band.to] as number, 'x', true);
    const { top, height } = u.bbox;
    u.ctx.save();
    u.ctx.fillStyle = cssColor('--chart-webgpu');
    u.ctx.globalAlpha = 0.12;
    u.ctx.fillRect(left, top, Math.max(2, right - left), height);
    u.ctx.restore();
  }

  private pointedAt(index: number | null | undefined): void {
    if (index == null || this.pointer === null) return;
    this.pointer(this.kept === null ? index : (this.kept[index] ?? index));
  }

  /** How many rows the chart draws (all, or those thinning kept), in data-drawn-rows for tests. */
  private publishDrawnRows(): void {
    this.host.dataset.drawnRows = String(this.kept?.length ?? this.columns[0].length);
  }

  /** Redraws with the current colour scheme's colours. */
  rebuild(): void {
    this.plot?.destroy();
    this.ticks = [];
    this.kept = keptRows(this.columns, this.width());
    const opts = options(this.spec, this.width(), this.ticks, (scale) => this.fitRange(scale));
    opts.hooks = {
      ...opts.hooks,
      draw: [
        ...(opts.hooks?.draw ?? []),
        (u: uPlot) => this.markOffScale(u),
        (u: uPlot) => this.shadeBand(u),
        () => this.publishAxes(),
      ],
      setCursor: [(u: uPlot) => this.pointedAt(u.cursor.idx)],
    };
    // A thinned series has more rows than pixels: a marker on each kept row would mark nothing.
    if (this.kept !== null) for (const series of opts.series.slice(1)) series.points = { show: false };
    this.plot = new uPlot(opts, pickRows(this.columns, this.kept) as uPlot.AlignedData, this.host);
    this.publishDrawnRows();
    const canvas = this.plot.ctx.canvas;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${this.text.title} chart`);
    canvas.setAttribute('aria-describedby', this.text.summaryId);
  }

  /**
   * The chart as a PNG: its title, the plot with its axes as drawn, and a legend of every series
   * (marker and label), on the panel's background.
   */
  async toPng(): Promise<Blob> {
    const plot = this.plot;
    if (plot === null) throw new Error('the chart is not drawn');
    const source = plot.ctx.canvas;
    const ratio = source.width / Math.max(1, plot.width);
    const family = fontFamily();
    const out = document.createElement('canvas');
    const ctx = out.getContext('2d');
    if (ctx === null) throw new Error('this browser cannot draw a PNG');
    const pad = 12;
    const titleHeight = 30;
    const entries = this.spec.series.map((s, i) => ({ s, label: plot.series[i + 1].label as string }));
    // Legend rows: entries placed left to right, wrapping at the canvas' width.
    const rowHeight = 20;
    const font = `${FONT_PX}px ${family}`;
    const placed: { x: number; row: number; label: string; s: ChartSeries }[] = [];
    let x = pad;
    let row = 0;
    for (const { s, label } of entries) {
      const w = 34 + textWidth(ctx, font, label) + 16;
      if (x + w > plot.width - pad && x > pad) {
        row++;
        x = pad;
      }
      placed.push({ x, row, label, s });
      x += w;
    }
    const legendHeight = entries.length === 0 ? 0 : (row + 1) * rowHeight + pad;
    out.width = source.width;
    out.height = Math.round((titleHeight + plot.height + legendHeight) * ratio);
    ctx.scale(ratio, ratio);
    ctx.fillStyle = cssColor('--panel');
    ctx.fillRect(0, 0, plot.width, titleHeight + plot.height + legendHeight);
    ctx.fillStyle = cssColor('--fg');
    ctx.font = `600 15px ${family}`;
    ctx.textBaseline = 'middle';
    ctx.fillText(this.text.title, pad, titleHeight / 2 + 2);
    ctx.drawImage(source, 0, titleHeight, plot.width, plot.height);
    ctx.font = font;
    for (const entry of placed) {
      const y = titleHeight + plot.height + pad / 2 + entry.row * rowHeight + rowHeight / 2;
      const color = cssColor(`--chart-${entry.s.color}`);
      ctx.strokeStyle = color;
      ctx.lineWidth = Math.max(2, entry.s.width ?? 2);
      ctx.setLineDash(entry.s.dash ?? []);
      ctx.beginPath();
      ctx.moveTo(entry.x, y);
      ctx.lineTo(entry.x + 28, y);
      ctx.stroke();
      ctx.setLineDash([]);
      if (entry.s.points) {
        ctx.fillStyle = color;
        ctx.beginPath();
        ctx.arc(entry.x + 14, y, 3, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.fillStyle = cssColor('--fg');
      ctx.fillText(entry.label, entry.x + 34, y);
    }
    return new Promise((resolve, reject) => {
      out.toBlob(
        (blob) => (blob === null ? reject(new Error('the PNG could not be made')) : resolve(blob)),
        'image/png',
      );
    });
  }

  /** The extent of `scale`'s series but the benchmarks; null when they hold no value yet. */
  private fitRange(scale: string): [number, number] | null {
    let min = Infinity;
    let max = -Infinity;
    this.spec.series.forEach((series, i) => {
      if (series.benchmark || (series.scale ?? 'y') !== scale) return;
      for (const v of this.columns[i + 1] ?? []) {
        if (v === null) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    });
    return min <= max ? [min, max] : null;
  }

  /** Benchmarks beyond the y range: a short line at the edge they lie beyond, and their value. */
  private markOffScale(u: uPlot): void {
    const marks: { label: string; value: number; edge: 'top' | 'bottom' }[] = [];
    this.spec.series.forEach((series, i) => {
      if (!series.benchmark) return;
      const value = this.columns[i + 1]?.find((v) => v !== null);
      const scale = u.scales[series.scale ?? 'y'];
      if (value == null || scale.min == null || scale.max == null) return;
      if (value > scale.max) marks.push({ label: series.label, value, edge: 'top' });
      else if (value < scale.min) marks.push({ label: series.label, value, edge: 'bottom' });
    });
    this.host.dataset.offScale = JSON.stringify(marks);
    if (marks.length === 0) return;
    const ctx = u.ctx;
    const ratio = devicePixelRatio || 1;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.font = `${FONT_PX * ratio}px ${fontFamily()}`;
    const counts = { top: 0, bottom: 0 };
    for (const mark of marks) {
      const series = this.spec.series.find((s) => s.label === mark.label)!;
      const color = cssColor(`--chart-${series.color}`);
      const row = counts[mark.edge]++;
      const y =
        mark.edge === 'top'
          ? top + (4 + row * (FONT_PX + 4)) * ratio
          : top + height - (4 + row * (FONT_PX + 4)) * ratio;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 1.5 * ratio;
      ctx.setLineDash((series.dash ?? []).map((d) => d * ratio));
      ctx.beginPath();
      const edgeY = mark.edge === 'top' ? top : top + height;
      ctx.moveTo(left, edgeY);
      ctx.lineTo(left + width, edgeY);
      ctx.stroke();
      ctx.textBaseline = mark.edge === 'top' ? 'top' : 'bottom';
      // The longest of these that fits across the plot: the label, the value and where it lies.
      const value = `${(series.format ?? String)(mark.value)} ${mark.edge === 'top' ? '↑' : '↓'}`;
      const room = width - 12 * ratio;
      const text =
        [`${mark.label} ${value} (off the scale)`, `${mark.label} ${value}`, value].find(
          (candidate) => textWidth(ctx, ctx.font, candidate) <= room,
        ) ?? value;
      ctx.fillText(text, left + width - textWidth(ctx, ctx.font, text) - 6 * ratio, y);
    }
    ctx.restore();
  }

  /** A new title (the PNG's heading and the canvas' name). */
  retitle(title: string): void {
    this.text = { ...this.text, title };
    this.plot?.ctx.canvas.setAttribute('aria-label', `${title} chart`);
  }

  /** The ticks as drawn, with their places and widths, in the host's data-axes (for tests). */
  private publishAxes(): void {
    const plot = this.plot;
    if (plot === null) return;
    const family = fontFamily();
    const axes: DrawnAxis[] = plot.axes.map((axis, i) => {
      const record = this.ticks[i] ?? { splits: [], texts: [], size: 0 };
      const scale = axis.scale ?? 'x';
      const label = typeof axis.label === 'string' ? axis.label : '';
      return {
        label,
        titleWidth: textWidth(plot.ctx, `600 ${FONT_PX}px ${family}`, label),
        length: i === 0 ? plot.bbox.width / (devicePixelRatio || 1) : plot.bbox.height / (devicePixelRatio || 1),
        side: i === 0 ? 'bottom' : axis.side === 1 ? 'right' : 'left',
        size: record.size,
        ticks: record.splits.flatMap((split, k) =>
          split === null || record.texts[k] === ''
            ? []
            : [
                {
                  text: record.texts[k],
                  value: split,
                  at: plot.valToPos(split, scale),
                  width: textWidth(plot.ctx, `${FONT_PX}px ${family}`, record.texts[k]),
                },
              ],
        ),
      };
    });
    this.host.dataset.axes = JSON.stringify(axes);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.host.clientWidth));
  }

  private fitWidth(): void {
    if (this.plot !== null && this.plot.width !== this.width()) {
      // Thinning follows the width (rows per pixel column).
      if (keptRows(this.columns, this.width()) !== null || this.kept !== null) this.rebuild();
      else this.plot.setSize({ width: this.width(), height: this.spec.height });
    }
  }
}

/** The button `buttonId` downloads `chart` as a PNG named `fileName`. */
export function offerPng(buttonId: string, chart: Chart, fileName: string): void {
  const button = byId(buttonId, HTMLButtonElement);
  button.addEventListener('click', () => {
    chart.toPng().then(
      (blob) => downloadBlob(fileName, blob),
      (err: Error) => {
        button.title = `No PNG: ${err.message}`;
      },
    );
  });
}

/** The range uPlot's log-axis ticks cover (its tick table runs from 1e-16 to 1e16). */
const LOG_AXIS_RANGE = [1e-15, 1e15] as const;

/**
 * The columns with what no axis can place left out (null: a gap): values that are not finite, and on
 * a log axis values outside LOG_AXIS_RANGE (0, or a baseline that fits exactly at 1e-29). uPlot's tick
 * loop never ends on a range that reaches any of them.
 */
export function drawable(spec: ChartSpec, columns: Columns): Columns {
  const logScales = new Set(spec.axes.filter((axis) => axis.log).map((axis) => axis.scale));
  const [xs, ...rest] = columns;
  return [
    xs,
    ...rest.map((column, i) => {
      const log = logScales.has(spec.series[i]?.scale ?? 'y');
      const placeable = (v: number | null) =>
        v !== null && Number.isFinite(v) && (!log || (v >= LOG_AXIS_RANGE[0] && v <= LOG_AXIS_RANGE[1]));
      return column.every((v) => v === null || placeable(v)) ? column : column.map((v) => (placeable(v) ? v : null));
    }),
  ];
}
