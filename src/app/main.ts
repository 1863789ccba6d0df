// The app's page: the Train view (trainView.ts) and the Benchmark view (benchView.ts) as tabs, with
// the notices above them. This file only wires the views together and opens the page.

import './trustedTypes.js';
import './styles.css';
import { BenchView } from './benchView.js';
import { byId } from './dom.js';
import { probeWebGpu } from './gpu.js';
import { TrainView } from './trainView.js';

// The WebGPU probe starts first: it takes a while, and both views need its answer.
const train = new TrainView(probeWebGpu());
const bench = new BenchView({
  gpu: () => train.gpu(),
  trainingActive: () => train.active(),
  onChange: () => train.render(),
});
train.attachBench(bench);

const tabs = [
  { tab: byId('tab-train', HTMLButtonElement), view: byId('train-view', HTMLElement), hash: '' },
  { tab: byId('tab-bench', HTMLButtonElement), view: byId('bench-view', HTMLElement), hash: '#benchmark' },
];

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
  document.body.dataset.view = index === 0 ? 'train' : 'benchmark';
}

tabs.forEach(({ tab }, i) => {
  tab.addEventListener('click', () => showView(i));
  tab.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    event.preventDefault();
    showView((i + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length, true);
  });
});

// Leaving or reloading the page while a run or a sweep is in progress asks first (the browser's question).
window.addEventListener('beforeunload', (event) => {
  if (train.active() || bench.running()) event.preventDefault();
});

showView(location.hash === '#benchmark' ? 1 : 0);
train.open();
