// The Inside view's pictures, drawn on canvas: a heatmap is one pixel per (unit, step), written as
// ImageData and scaled up by CSS (image-rendering: pixelated), so a redraw costs T·H pixels whatever
// the panel's size; the legends, the saturation scatter and the connectivity bars are small canvases
// at the screen's pixel ratio. The colours are fixed maps (sequential for the sigmoid gates' 0..1,
// diverging for the symmetric ranges), readable on the light and the dark theme alike.
//
// Legend: T = window (columns, step 1 at the left), H = hidden units (rows, unit 1 at the top).

import { cssColor } from './charts.js';

/** A colour scale: sequential over min..max, or diverging around 0 over -max..max. */
export interface ColourScale {
  kind: 'sequential' | 'diverging';
  min: number;
  max: number;
}

type Rgb = [number, number, number];

// ColorBrewer's Blues (sequential) and RdBu (diverging, blue below 0, red above), a few stops each.
const BLUES: Rgb[] = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];
const RED_BLUE: Rgb[] = [
  [33, 102, 172],
  [103, 169, 207],
  [247, 247, 247],
  [239, 138, 98],
  [178, 24, 43],
];

/** The colour of `value` on `scale`, as RGB. */
export function colourOf(value: number, scale: ColourScale): Rgb {
  const stops = scale.kind === 'sequential' ? BLUES : RED_BLUE;
  const span = scale.max - scale.min;
  const f = span > 0 && Number.isFinite(value) ? Math.min(1, Math.max(0, (value - scale.min) / span)) : 0.5;
  const at = f * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(at));
  const w = at - k;
  const [a, b] = [stops[k], stops[k + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * w)) as Rgb;
}

/** Draws `values` (T, H) as H rows of T pixels on `canvas` (its CSS stretches it). */
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  values: ArrayLike<number>,
  T: number,
  H: number,
  scale: ColourScale,
): void {
  if (canvas.width !== T) canvas.width = T;
  if (canvas.height !== H) canvas.height = H;
  const ctx = canvas.getContext('2d');
  if (ctx === null || T === 0 || H === 0) return;
  const image = ctx.createImageData(T, H);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < H; j++) {
      const [r, g, b] = colourOf(values[t * H + j], scale);
      const p = (j * T + t) * 4;
      image.data[p] = r;
      image.data[p + 1] = g;
      image.data[p + 2] = b;
      image.data[p + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

/** Draws the scale as a horizontal bar, min at the left. */
export function drawLegend(canvas: HTMLCanvasElement, scale: ColourScale): void {
  const width = 64;
  if (canvas.width !== width) canvas.width = width;
  canvas.height = 1;
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  const image = ctx.createImageData(width, 1);
  for (let x = 0; x < width; x++) {
    const [r, g, b] = colourOf(scale.min + ((scale.max - scale.min) * x) / (width - 1), scale);
    image.data.set([r, g, b, 255], x * 4);
  }
  ctx.putImageData(image, 0, 0);
}

/** A canvas sized to its box at the screen's pixel ratio, with a context in CSS pixels. */
function fitted(
  canvas: HTMLCanvasElement,
  height: number,
): { ctx: CanvasRenderingContext2D; w: number; h: number } | null {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(120, Math.round(canvas.clientWidth || canvas.parentElement?.clientWidth || 240));
  const h = height;
  if (canvas.width !== Math.round(w * ratio)) canvas.width = Math.round(w * ratio);
  if (canvas.height !== Math.round(h * ratio)) canvas.height = Math.round(h * ratio);
  const ctx = canvas.getContext('2d');
  if (ctx === null) return null;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = `11px ${getComputedStyle(document.body).fontFamily}`;
  return { ctx, w, h };
}

/** A unit's saturation: x the fraction of steps below 0.1, y above 0.9. */
export interface ScatterPoint {
  left: number;
  right: number;
  dead: boolean;
}

/**
 * The saturation scatter of one gate: one dot per unit, x = fraction of time in the lowest tenth of the
 * gate's range (< 0.1 for a sigmoid gate), y = in the highest (> 0.9),
 * the previous report's dots drawn faint, so that movement over reports shows; dead units hollow.
 */
export function drawScatter(
  canvas: HTMLCanvasElement,
  points: readonly ScatterPoint[],
  previous: readonly ScatterPoint[] | null,
  bounds: { left: number; right: number },
): void {
  const box = fitted(canvas, 160);
  if (box === null) return;
  const { ctx, w, h } = box;
  const pad = { left: 26, right: 8, top: 8, bottom: 22 };
  const side = Math.min(w - pad.left - pad.right, h - pad.top - pad.bottom);
  const at = (p: ScatterPoint): [number, number] => [pad.left + p.left * side, pad.top + (1 - p.right) * side];
  ctx.strokeStyle = cssColor('--chart-grid');
  ctx.fillStyle = cssColor('--chart-axis');
  ctx.strokeRect(pad.left, pad.top, side, side);
  // The diagonal x + y = 1: a unit on it is always saturated, one way or the other.
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left + side, pad.top + side);
  ctx.stroke();
  ctx.textBaseline = 'top';
  ctx.fillText('0', pad.left - 2, pad.top + side + 4);
  ctx.fillText('1', pad.left + side - 4, pad.top + side + 4);
  ctx.fillText(`< ${bounds.left} →`, pad.left + side / 2 - 18, pad.top + side + 6);
  ctx.textBaseline = 'middle';
  ctx.fillText('1', pad.left - 10, pad.top + 4);
  ctx.save();
  ctx.translate(10, pad.top + side / 2 + 18);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(`> ${bounds.right} →`, 0, 0);
  ctx.restore();
  const colour = cssColor('--chart-webgpu');
  ctx.globalAlpha = 0.25;
  ctx.fillStyle = colour;
  for (const p of previous ?? []) dot(ctx, ...at(p), 2.5, true);
  ctx.globalAlpha = 0.85;
  for (const p of points) {
    ctx.fillStyle = p.dead ? cssColor('--chart-cpu') : colour;
    ctx.strokeStyle = ctx.fillStyle;
    dot(ctx, ...at(p), 3.5, !p.dead);
  }
  ctx.globalAlpha = 1;
}

function dot(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, fill: boolean): void {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  if (fill) ctx.fill();
  else ctx.stroke();
}

/**
 * The connectivity per lag, lag 1 (the last value) at the left: the model's bars beside the AR
 * baseline's, on one axis (both are d prediction / d input in the network's normalized units).
 */
export function drawConnectivity(
  canvas: HTMLCanvasElement,
  model: ArrayLike<number>,
  autoregression: ArrayLike<number> | null,
): void {
  const box = fitted(canvas, 170);
  if (box === null) return;
  const { ctx, w, h } = box;
  const pad = { left: 40, right: 8, top: 10, bottom: 24 };
  const T = model.length;
  let top = 0;
  for (let k = 0; k < T; k++) top = Math.max(top, model[k], autoregression?.[k] ?? 0);
  if (!(top > 0)) top = 1;
  const plotW = w - pad.left - pad.right;
  const plotH = h - pad.top - pad.bottom;
  const slot = plotW / Math.max(1, T);
  const bar = autoregression === null ? slot * 0.7 : slot * 0.38;
  ctx.strokeStyle = cssColor('--chart-grid');
  ctx.fillStyle = cssColor('--chart-axis');
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top + plotH);
  ctx.lineTo(pad.left + plotW, pad.top + plotH);
  ctx.stroke();
  ctx.textBaseline = 'middle';
  ctx.fillText(top.toPrecision(2), 2, pad.top + 4);
  ctx.fillText('0', 2, pad.top + plotH);
  ctx.textBaseline = 'top';
  const every = Math.max(1, Math.ceil(T / Math.max(1, Math.floor(plotW / 28))));
  for (let k = 0; k < T; k++) {
    const x = pad.left + k * slot;
    const height = (v: number) => (Math.max(0, v) / top) * plotH;
    ctx.fillStyle = cssColor('--chart-webgpu');
    ctx.fillRect(x + slot * 0.1, pad.top + plotH - height(model[k]), bar, height(model[k]));
    if (autoregression !== null) {
      ctx.fillStyle = cssColor('--chart-data');
      ctx.fillRect(x + slot * 0.1 + bar, pad.top + plotH - height(autoregression[k]), bar, height(autoregression[k]));
    }
    if (k % every === 0) {
      ctx.fillStyle = cssColor('--chart-axis');
      ctx.fillText(String(k + 1), x + slot * 0.3, pad.top + plotH + 4);
    }
  }
  ctx.fillText('lag →', pad.left + plotW - 30, pad.top + plotH + 12);
}
