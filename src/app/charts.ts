// uPlot charts that only draw: a ChartSpec says which series there are (label, colour role, dash,
// scale), the columns come ready-made from columns.ts. A chart follows its container's width and
// is rebuilt when its series change or the colour scheme flips (uPlot bakes colours into its options).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Columns } from './columns.js';

/** Colour roles; the values live in styles.css as --chart-<role> and follow the colour scheme. */
export type ColorRole = 'data' | 'webgpu' | 'cpu' | 'webgpu-alt' | 'cpu-alt';

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
}

export interface AxisSpec {
  scale: string;
  label: string;
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
  /** The x axis' tick labels (dates, say); uPlot's own numbers when absent. */
  formatXTick?: (value: number) => string;
  /** Least pixels between x ticks (wide labels such as dates need more than uPlot's default). */
  xTickSpace?: number;
  /** A log-2 x axis (sizes that double). */
  xLog?: boolean;
  marker?: MarkerSpec | null;
  series: ChartSeries[];
  axes: AxisSpec[];
  height: number;
}

function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function options(spec: ChartSpec, width: number): uPlot.Options {
  const axisColor = cssColor('--chart-axis');
  const gridColor = cssColor('--chart-grid');
  const font = `12px ${getComputedStyle(document.body).fontFamily}`;
  const labelFont = `600 12px ${getComputedStyle(document.body).fontFamily}`;
  const scales: uPlot.Scales = { x: spec.xLog ? { time: false, distr: 3, log: 2 } : { time: false } };
  for (const axis of spec.axes) scales[axis.scale] = axis.log ? { distr: 3, log: 10 } : { distr: 1 };
  return {
    width,
    height: spec.height,
    scales,
    legend: { live: true },
    cursor: { drag: { x: true, y: false }, points: { size: 7 } },
    axes: [
      {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
        label: spec.xLabel,
        labelFont,
        font,
        labelSize: 24,
        ...(spec.formatXTick ? { values: (_u: uPlot, splits: number[]) => splits.map(spec.formatXTick!) } : {}),
        ...(spec.xTickSpace ? { space: spec.xTickSpace } : {}),
      },
      ...spec.axes.map(
        (axis): uPlot.Axis => ({
          scale: axis.scale,
          side: axis.side === 'right' ? 1 : 3,
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1, show: axis.side !== 'right' },
          ticks: { stroke: gridColor, width: 1 },
          label: axis.label,
          labelFont,
          font,
          labelSize: 24,
          size: 56,
        }),
      ),
    ],
    hooks: spec.marker ? { draw: [(u: uPlot) => drawMarker(u, spec.marker!, axisColor, font)] } : {},
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
  private columns: Columns;
  private readonly resizer: ResizeObserver;

  constructor(
    private readonly host: HTMLElement,
    spec: ChartSpec,
    columns: Columns,
  ) {
    this.spec = spec;
    this.columns = columns;
    this.resizer = new ResizeObserver(() => this.fitWidth());
    this.resizer.observe(host);
    this.rebuild();
  }

  /** New series (a different set of backends, a log scale switched on or off). */
  setSpec(spec: ChartSpec, columns: Columns): void {
    this.spec = spec;
    this.columns = columns;
    this.rebuild();
  }

  setData(columns: Columns): void {
    this.columns = columns;
    if (this.plot === null || columns.length !== this.spec.series.length + 1) this.rebuild();
    else this.plot.setData(columns as uPlot.AlignedData);
  }

  /** Redraws with the current colour scheme's colours. */
  rebuild(): void {
    this.plot?.destroy();
    this.plot = new uPlot(options(this.spec, this.width()), this.columns as uPlot.AlignedData, this.host);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.host.clientWidth));
  }

  private fitWidth(): void {
    if (this.plot !== null && this.plot.width !== this.width()) {
      this.plot.setSize({ width: this.width(), height: this.spec.height });
    }
  }
}
