// The Train view's "Forecast accuracy" panel: once a run has ended, its forecast is checked in a
// worker (forecastWorker.ts, bands.ts): the drawn forecast over the held-out part scored beside the six benchmarks (a table,
// and a sentence naming the strongest of them), the held-out evaluation from every origin, and the
// prediction bands at the Levels field's levels with their coverage, which the series chart draws.

import { InputError } from '../model/errors.js';
import { BACKTEST_SETTINGS } from '../settings/backtest.js';
import type { ForecastCheck, ForecastInput, ShownBands } from './bands.js';
import { byId, el, setText } from './dom.js';
import { benchmarkExplanation, type Cell, metricCell, metricExplanation } from './forecastTables.js';
import type { ForecastRequest } from './forecastWorker.js';
import { messageOf } from './settings.js';
import { workerJob } from './workerJob.js';

/** The Levels field's text: none when empty, else the levels in percent (an InputError names the field). */
export function readLevels(text: string): number[] {
  return text.trim() === '' ? [] : BACKTEST_SETTINGS.levels.parse(text, 'levels');
}

export class ForecastPanel {
  private readonly levelsInput = byId('forecast-levels', HTMLInputElement);
  private readonly levelsError = byId('forecast-levels-error', HTMLParagraphElement);
  private readonly sentence = byId('forecast-sentence', HTMLParagraphElement);
  private readonly intervals = byId('forecast-intervals', HTMLUListElement);
  private readonly table = byId('forecast-table', HTMLTableElement);
  private input: ForecastInput | null = null;
  private checked: ForecastCheck | null = null;
  /** Counts the checks asked for: a check that finishes after a newer one (or a clear) is dropped. */
  private generation = 0;
  /** Ends the check under way when a newer one (or a clear) replaces it. */
  private abort: AbortController | null = null;

  constructor(
    /** The bands changed: the series chart takes new series. */
    private readonly onChange: () => void,
  ) {
    this.levelsInput.addEventListener('change', () => {
      if (this.input !== null) void this.check(this.input);
    });
    this.clear();
  }

  /** The bands the series chart draws, or null. */
  bands(): ShownBands | null {
    const checked = this.checked;
    if (checked === null || (checked.heldOutBands.length === 0 && checked.futureBands.length === 0)) return null;
    return { heldOut: checked.heldOutBands, future: checked.futureBands };
  }

  /** A new run: nothing is checked until it ends. */
  clear(): void {
    this.generation++;
    this.abort?.abort();
    this.abort = null;
    this.input = null;
    const had = this.checked !== null;
    this.checked = null;
    setText(
      this.sentence,
      'Once a run ends, its forecast is scored here against the benchmarks, with its prediction bands’ coverage.',
    );
    this.intervals.replaceChildren();
    this.table.replaceChildren();
    document.body.dataset.forecastCheck = 'none';
    if (had) this.onChange();
  }

  /** Checks the ended run's forecast at the field's levels. */
  async check(input: ForecastInput): Promise<void> {
    const generation = ++this.generation;
    this.input = input;
    let levels: number[];
    try {
      levels = readLevels(this.levelsInput.value);
      setText(this.levelsError, '');
      this.levelsInput.removeAttribute('aria-invalid');
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      setText(this.levelsError, messageOf(err));
      this.levelsInput.setAttribute('aria-invalid', 'true');
      return;
    }
    document.body.dataset.forecastCheck = 'checking';
    setText(this.sentence, 'Scoring the forecast and measuring its bands…');
    const started = performance.now();
    try {
      this.abort?.abort();
      const abort = new AbortController();
      this.abort = abort;
      const checked = await workerJob<ForecastRequest, ForecastCheck>(
        () => new Worker(new URL('./forecastWorker.ts', import.meta.url), { type: 'module', name: 'forecast-check' }),
        { input, levels },
        { signal: abort.signal, stopped: 'the forecast check stopped' },
      );
      document.body.dataset.forecastCheckMs = String(Math.round(performance.now() - started));
      if (generation !== this.generation) return;
      this.checked = checked;
      this.show(checked);
    } catch (err) {
      if (generation !== this.generation) return;
      this.checked = null;
      setText(this.sentence, `The forecast could not be checked: ${(err as Error).message}`);
    }
    document.body.dataset.forecastCheck = 'done';
    this.onChange();
  }

  private show(checked: ForecastCheck): void {
    const { heldOut } = checked;
    const lines = [
      checked.sentence,
      typeof heldOut === 'string' ? `Held-out evaluation: none (${heldOut}).` : heldOut.sentence,
    ];
    setText(this.sentence, lines.join(' '));
    const intervals = typeof heldOut === 'string' ? [] : heldOut.intervals.filter((i) => i.method === 'conformal');
    const notes = [
      ...intervals.map((interval) => interval.sentence),
      ...(checked.bandNote === null ? [] : [`Bands: ${checked.bandNote}.`]),
    ];
    this.intervals.replaceChildren(...notes.map((text) => el('li', {}, [text])));
    this.fillTable(checked);
  }

  private fillTable(checked: ForecastCheck): void {
    const { scored, heldOut } = checked;
    const th = (text: string, title = '') => el('th', { scope: 'col', ...(title === '' ? {} : { title }) }, [text]);
    const td = (cell: Cell) => el('td', cell.title === '' ? {} : { title: cell.title }, [cell.text]);
    const measures = ['mae', 'rmse', 'mase', 'smape'] as const;
    const everyOrigin = typeof heldOut === 'string' ? null : heldOut;
    const head = el('tr', {}, [
      th('Forecast'),
      ...measures.map((m) => th(`drawn: ${m === 'smape' ? 'sMAPE' : m.toUpperCase()}`, metricExplanation(m))),
      th(
        everyOrigin === null ? 'every origin: MASE' : `every origin, ${everyOrigin.horizon} steps: MASE`,
        metricExplanation('mase'),
      ),
    ]);
    const reason = typeof heldOut === 'string' ? heldOut : 'no forecast is drawn over the held-out part';
    const modelRow = el('tr', { 'data-forecast': 'model' }, [
      el('th', { scope: 'row' }, ['model']),
      ...measures.map((m) => td(metricCell(scored?.model.overall[m], reason))),
      td(metricCell(everyOrigin?.model?.overall.mase, everyOrigin?.modelSkipped ?? reason)),
    ]);
    const benchmarks = (scored?.benchmarks ?? everyOrigin?.benchmarks ?? []).map((b, i) =>
      el('tr', { 'data-forecast': b.key }, [
        el('th', { scope: 'row', title: benchmarkExplanation(b.key) }, [b.label]),
        ...measures.map((m) => td(metricCell(b.table?.overall[m], b.skipped ?? reason))),
        td(metricCell(everyOrigin?.benchmarks[i]?.table?.overall.mase, everyOrigin?.benchmarks[i]?.skipped ?? reason)),
      ]),
    );
    this.table.replaceChildren(
      el('caption', { class: 'visually-hidden' }, [
        'The drawn forecast’s errors over the held-out part beside the benchmarks’',
      ]),
      el('thead', {}, [head]),
      el('tbody', {}, [modelRow, ...benchmarks]),
    );
  }
}
