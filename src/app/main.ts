// The app's page: the Train view (trainView.ts), the Benchmark view (benchView.ts), the Backtest
// view (backtestView.ts) and the Search view (searchView.ts) as tabs, with the notices above them. This file only wires the views together and opens the page. The tabs come
// from the tab list in index.html (each names its view and its #hash), so a new view is one more
// tab there and one more entry in VIEWS below.

import './trustedTypes.js';
import './styles.css';
import { BacktestView } from './backtestView.js';
import { BenchView } from './benchView.js';
import { byId, scrollableByKeyboard } from './dom.js';
import { probeWebGpu } from './gpu.js';
import { SearchView } from './searchView.js';
import { TrainView } from './trainView.js';

// The WebGPU probe starts first: it takes a while, and both views need its answer.
const train = new TrainView(probeWebGpu());
const bench = new BenchView({
  gpu: () => train.gpu(),
  trainingActive: () => train.busy(),
  onChange: () => train.render(),
});
train.attachBench(bench);
const backtest = new BacktestView({
  base: () => train.backtestBase(),
  busy: () =>
    train.busy()
      ? 'a training run is in progress on the Train tab; stop or finish it first, so the two do not share the CPU.'
      : bench.running()
        ? 'a benchmark sweep is running; cancel or finish it first.'
        : null,
});

const tabs = [
  ...byId('tab-train', HTMLButtonElement).parentElement!.querySelectorAll<HTMLButtonElement>('[role="tab"]'),
].map((tab) => ({
  tab,
  view: byId(tab.getAttribute('aria-controls') ?? '', HTMLElement),
  hash: tab.dataset.hash ?? '',
  name: tab.dataset.view ?? '',
}));

const search = new SearchView({
  base: () => train.searchBase(),
  open: (values) => {
    train.openConfiguration(values);
    showView(tabs.findIndex(({ name }) => name === 'train'));
  },
  trainingActive: () => train.active() || bench.running(),
});

function showView(index: number, focus = false): void {
  tabs.forEach(({ tab, view }, i) => {
    const selected = i === index;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    view.hidden = !selected;
  });
  if (focus) tabs[index].tab.focus();
  const url = `${location.pathname}${location.search}${tabs[index].hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  document.body.dataset.view = tabs[index].name;
  if (tabs[index].name === 'backtest') backtest.describeBase();
}

/** The tab that an arrow, Home or End key moves to from tab `i`, or null for another key. */
function tabAfterKey(key: string, i: number): number | null {
  const n = tabs.length;
  if (key === 'ArrowRight') return (i + 1) % n;
  if (key === 'ArrowLeft') return (i + n - 1) % n;
  if (key === 'Home') return 0;
  if (key === 'End') return n - 1;
  return null;
}

tabs.forEach(({ tab }, i) => {
  tab.addEventListener('click', () => showView(i));
  tab.addEventListener('keydown', (event) => {
    const next = tabAfterKey(event.key, i);
    if (next === null) return;
    event.preventDefault();
    showView(next, true);
  });
});

// Leaving or reloading the page while a run or a sweep is in progress, or with a finished run not yet
// kept in the browser, asks first (the browser's question).
window.addEventListener('beforeunload', (event) => {
  if (train.active() || train.unsaved() || bench.running() || backtest.running() || search.running()) {
    event.preventDefault();
  }
});

const linked = tabs.findIndex(({ hash }) => hash !== '' && hash === location.hash);
scrollableByKeyboard();
showView(Math.max(0, linked));
train.open();
// The link's settings are in the Train view's form now: the Backtest view says what it would train.
backtest.describeBase();
