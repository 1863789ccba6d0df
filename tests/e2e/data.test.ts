// The built app with real data, in headless chromium: the user's CSV through the file input and by
// drag and drop (trained with stacked layers, the validation error charted), a header of markup shown
// as text, bad files refused beside their control without losing the run, a model downloaded and
// loaded again (to forecast and to go on training) and downloaded as ONNX and TF.js, divergence
// explained, and settings from a link.
// Screenshots go to test-results/.

import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../src/export/onnx.js';
import { exportTfjs } from '../../src/export/tfjs.js';
import { readModelFile } from '../../src/train/modelFile.js';
import {
  type AppPage,
  chartCounts,
  chooseCsv,
  downloadBytesOf,
  downloadedBytes,
  downloadOf,
  dropFile,
  liveResources,
  overflowsSideways,
  pickBackend,
  screenshot,
  setField,
  statsRows,
  textFile,
  useApp,
  waitForPhase,
  watched,
  watchPage,
} from './harness.js';

const open = useApp();

/** A daily series with a date column, a value with a trend and a season, and a second column. */
function pricesCsv(rows: number): string {
  const lines = ['Date,price,volume'];
  const start = Date.UTC(2021, 0, 1);
  for (let i = 0; i < rows; i++) {
    const date = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    const price = 100 + 0.2 * i + 8 * Math.sin((2 * Math.PI * i) / 20);
    lines.push(`${date},${price.toFixed(3)},${1000 + ((i * 37) % 200)}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

async function train(page: AppPage['page']): Promise<string> {
  await page.click('#start');
  return waitForPhase(page, ['finished', 'stopped'], 60_000);
}

describe('the app with real data', () => {
  it('trains on a CSV from the file input with stacked layers, and charts the validation error', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await chooseCsv(page, 'prices.csv', pricesCsv(150));
    expect(await page.textContent('#csv-status')).toBe(
      'prices.csv: 150 rows, 2 value columns (commas, a header row, dates in "Date").',
    );
    expect(
      await page.$$eval('#csv-columns-body tr[data-kind="value"] .column-name', (names) =>
        names.map((name) => name.textContent),
      ),
    ).toEqual(['price', 'volume']);
    // Real data: the last 20% is held out and z-scored by default.
    expect(await page.inputValue('#field-split')).toBe('0.8');
    expect(await page.inputValue('#field-normalise')).toBe('z-score');
    await setField(page, 'hidden', '8, 4');
    await setField(page, 'epochs', '60');
    expect(await train(page)).toBe('finished');

    const rows = await statsRows(page);
    expect(rows.cpu.epoch).toBe(60);
    expect(rows.cpu.lastError).toBeLessThan(0.5 * rows.cpu.firstError);
    const validation = Number(await page.getAttribute('#stats-body tr', 'data-validation-error'));
    expect(Number.isFinite(validation) && validation > 0).toBe(true);
    // 150 rows, window 10 and one more row for the differences (a CSV's default): 139 one-step
    // predictions; rows 121-150 held out, forecast into them; 24 steps past the end, from the last value.
    // (The forecast's bands join once the run's forecast is checked: forecasting.test.ts.)
    expect(await chartCounts(page, 'series-chart')).toMatchObject({
      'data (price)': 150,
      'prediction (CPU)': 139,
      'forecast (CPU)': 30,
      'past the end (CPU)': 25,
    });
    // The training error and the validation error every epoch (the backend measures both with the epoch).
    // The test error at each report, and the three baselines drawn across every epoch.
    expect(await chartCounts(page, 'error-chart')).toEqual({
      'error (CPU)': 60,
      'validation (CPU)': 60,
      'test (CPU)': 6,
      'last value': 60,
      'seasonal naive (7)': 60,
      'AR(10)': 60,
    });
    expect(await page.textContent('#series-summary')).toMatch(
      /^prices\.csv: 150 rows; .* rows 121–150 are held out \(test\)\./,
    );
    expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });

    await screenshot(page, 'app-csv-1280x800.png');
    await screenshot(page, 'app-csv-1280-full.png', { fullPage: true });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForTimeout(300);
    expect(await overflowsSideways(page)).toBe(false);
    await screenshot(page, 'app-csv-420-full.png', { fullPage: true });
    expect(problems).toEqual([]);
  });

  it('reads a dropped CSV whose header is markup as text: no element, no dialog, no CSP report', async () => {
    const { page, problems } = await open({ width: 1280, height: 800 });
    await pickBackend(page, 'cpu');
    await setField(page, 'source', 'csv');
    const header = '<img src=x onerror=alert(1)>';
    const values = Array.from({ length: 60 }, (_, i) => (Math.sin(i / 3) * 2).toFixed(4));
    await dropFile(page, '#csv-drop', 'xss.csv', [header, ...values].join('\n'));
    await page.waitForFunction(() => (document.querySelector('#csv-status')?.textContent ?? '').startsWith('xss.csv:'));
    expect(await page.textContent('#csv-columns-body .column-name')).toBe(header);
    await page.waitForFunction(() =>
      (document.querySelector('#data-summary')?.textContent ?? '').startsWith('xss.csv:'),
    );
    expect(await page.textContent('#data-summary')).toBe(
      `xss.csv: 60 rows; the model predicts ${header} (as differences from the row before) from the 10 rows before; rows 43–48 choose the best epoch (validation); rows 49–60 are held out (test).`,
    );
    await screenshot(page, 'app-data-picker-1280x800.png', { at: '#group-data' });
    await page.setViewportSize({ width: 420, height: 900 });
    await screenshot(page, 'app-data-picker-420x900.png', { at: '#group-data' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await setField(page, 'epochs', '20');
    expect(await train(page)).toBe('finished');
    expect(Object.keys(await chartCounts(page, 'series-chart'))).toContain(`data (${header})`);
    expect(await page.textContent('#series-summary')).toContain(
      `predicts ${header} (as differences from the row before) from`,
    );
    // The markup stayed text: the page holds no img element and no element has an onerror handler.
    expect(await page.$$eval('img, [onerror]', (nodes) => nodes.length)).toBe(0);
    const legend = await page.$$eval('#series-chart .u-legend th', (ths) => ths.map((th) => th.textContent ?? ''));
    expect(legend.some((text) => text.includes(header))).toBe(true);
    await screenshot(page, 'app-csv-markup-header.png', { fullPage: true });
    expect(problems).toEqual([]);
  });

  it('reads a large CSV in pieces with a progress bar, the page answering all along', async () => {
    const { page, problems } = await open();
    await setField(page, 'source', 'csv');
    const rows = 120_000;
    const text = pricesCsv(rows);
    expect(text.length).toBeGreaterThan(3_000_000);
    // A timer every 10 ms notes how late it fires (the page's longest stall) from the moment the
    // progress bar shows (reading has begun: the stall before it is the test tool handing the page its
    // 3 MB file) until the series chart has drawn the file, and the bar's values as it moves.
    await page.evaluate(() => {
      const w = window as unknown as { stalls: number[]; progress: number[]; ticker: number };
      w.stalls = [];
      w.progress = [];
      let last = performance.now();
      let reading = false;
      w.ticker = window.setInterval(() => {
        const now = performance.now();
        const bar = document.querySelector<HTMLProgressElement>('#csv-progress')!;
        // Only intervals that began with reading under way: the one the file's hand-over ends in is the tool's.
        if (reading) w.stalls.push(now - last);
        reading ||= !bar.hidden;
        last = now;
        if (!bar.hidden) w.progress.push(bar.value);
      }, 10);
    });
    await page.setInputFiles('#csv-file', textFile('large.csv', text));
    await page.waitForFunction(
      () =>
        JSON.parse(document.querySelector('#series-chart')?.getAttribute('data-counts') ?? '{}')['data (price)'] ===
        120_000,
      null,
      { timeout: 60_000 },
    );
    // Two frames more, so that a draw the data set off is timed too.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const { stalls, progress } = await page.evaluate(() => {
      const w = window as unknown as { stalls: number[]; progress: number[]; ticker: number };
      clearInterval(w.ticker);
      return { stalls: w.stalls, progress: w.progress };
    });
    expect(await page.textContent('#csv-status')).toMatch(/^large\.csv: 120,000 rows, 2 value columns/);
    // The bar moved through the file, and no stall came near a frozen page: reading, preparing the
    // preview and drawing it included.
    expect(progress.some((v) => v > 0 && v < 1)).toBe(true);
    expect(stalls.length).toBeGreaterThan(0);
    expect(Math.max(...stalls)).toBeLessThan(1000);
    expect(await page.isHidden('#csv-progress')).toBe(true);
    // The chart draws a few rows a pixel column, not all 120,000.
    const drawn = Number(await page.getAttribute('#series-chart', 'data-drawn-rows'));
    expect(drawn).toBeGreaterThan(1000);
    expect(drawn).toBeLessThan(20_000);
    expect(problems).toEqual([]);
  });

  it('refuses bad files beside their control and keeps the run already trained', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await chooseCsv(page, 'good.csv', pricesCsv(80));
    await setField(page, 'epochs', '30');
    expect(await train(page)).toBe('finished');
    const before = await statsRows(page);
    const chartsBefore = await chartCounts(page, 'error-chart');

    const bad = 'time,level\n1,2.5\n2,n/a\n3,4.5\n4,NaN\n5,6\n';
    await page.setInputFiles('#csv-file', textFile('bad.csv', bad));
    await page.waitForFunction(() => (document.querySelector('#csv-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#csv-error')).toBe(
      'bad.csv was not read: row 3, column "level": the value is missing, and the row is not among the last rows (the data’s future) (or choose “drop the row” to skip such rows).',
    );
    expect(await page.textContent('#csv-status')).toMatch(/^Still using good\.csv: 80 rows/);
    const empty = textFile('empty.csv', '\n\n');
    await page.setInputFiles('#csv-file', empty);
    await page.waitForFunction(() => (document.querySelector('#csv-error')?.textContent ?? '').startsWith('empty.csv'));
    expect(await page.textContent('#csv-error')).toBe('empty.csv was not read: the file is empty.');

    // A model file that is not one: refused beside the model control.
    await page.setInputFiles(
      '#model-file',
      textFile('model.json', '{"format":"webgpu-lstm/model","version":1', 'application/json'),
    );
    await page.waitForFunction(() => (document.querySelector('#model-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#model-error')).toMatch(/^model\.json was not loaded: the file is not valid JSON/);
    const proto =
      '{"format":"webgpu-lstm/model","version":1,"__proto__":{"polluted":1},"config":{"inputSize":1,"hiddenSizes":[2],"outputSize":1,"window":3}}';
    await page.setInputFiles('#model-file', textFile('proto.json', proto, 'application/json'));
    await page.waitForFunction(() =>
      (document.querySelector('#model-error')?.textContent ?? '').startsWith('proto.json'),
    );
    expect(await page.textContent('#model-error')).toBe('proto.json was not loaded: lstm is missing.');
    expect(await page.evaluate(() => (({}) as { polluted?: number }).polluted)).toBeUndefined();

    // Nothing trained was lost.
    expect(await statsRows(page)).toEqual(before);
    expect(await chartCounts(page, 'error-chart')).toEqual(chartsBefore);
    expect(await page.getAttribute('body', 'data-phase')).toBe('finished');

    // The same bad file with "drop the row": read, and the dropped rows reported.
    await setField(page, 'missing', 'drop');
    await page.setInputFiles('#csv-file', textFile('bad.csv', bad));
    await page.waitForFunction(() => (document.querySelector('#csv-status')?.textContent ?? '').startsWith('bad.csv:'));
    expect(await page.textContent('#csv-status')).toBe(
      'bad.csv: 3 rows, 2 value columns (commas, a header row); 2 rows dropped (row 3, column "level": the value is missing, and the row is not among the last rows (the data’s future); row 5, column "level": the value is missing, and the row is not among the last rows (the data’s future)).',
    );
    expect(await page.textContent('#csv-error')).toBe('');
    expect(problems).toEqual([]);
  });

  it('reads CSVs in a worker: a 300,000-digit cell and UTF-16 are refused while the page keeps answering', async () => {
    const { page, problems } = await open();
    await setField(page, 'source', 'csv');
    // Note every worker the page starts, and how late a 10 ms timer fires (the page's longest stall).
    await watchPage(page);
    const digits = `a,b\n1,2\n3,${'9'.repeat(300_000)}x\n5,6\n`;
    await page.setInputFiles('#csv-file', textFile('digits.csv', digits));
    await page.waitForFunction(() =>
      (document.querySelector('#csv-error')?.textContent ?? '').startsWith('digits.csv'),
    );
    expect(await page.textContent('#csv-error')).toBe(
      'digits.csv was not read: row 3, column "b": the cell holds 300,001 characters; a value or date may have at most 1,000.',
    );
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pricesCsv(30), 'utf16le')]);
    await page.setInputFiles('#csv-file', { name: 'utf16.csv', mimeType: 'text/csv', buffer: utf16 });
    await page.waitForFunction(() => (document.querySelector('#csv-error')?.textContent ?? '').startsWith('utf16.csv'));
    expect(await page.textContent('#csv-error')).toBe(
      'utf16.csv was not read: the file is UTF-16 text; save it as UTF-8.',
    );
    const { workerNames, stalls } = await watched(page);
    expect(workerNames).toEqual(['csv-parse', 'csv-parse']);
    expect(stalls.length).toBeGreaterThan(0);
    expect(Math.max(...stalls)).toBeLessThan(1000);
    expect(problems).toEqual([]);
  });

  it('loads a model file saved as UTF-8 with a byte-order mark, and refuses UTF-16 by name', async () => {
    const { page, problems } = await open();
    const model = JSON.stringify({
      format: 'webgpu-lstm/model',
      version: 1,
      config: { inputSize: 1, hiddenSizes: [1], outputSize: 1, window: 10 },
      lstm: [{ w: [[[0.1]], [[0.2]], [[0.3]], [[0.4]]], v: [[[0]], [[0]], [[0]], [[0]]], b: [[0], [0], [0], [0]] }],
      dense: { w: [[1]], b: [0] },
    });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(model)]);
    await page.setInputFiles('#model-file', { name: 'bom.json', mimeType: 'application/json', buffer: bom });
    await page.waitForFunction(() => (document.querySelector('#model-status')?.textContent ?? '').includes('bom.json'));
    expect(await page.textContent('#model-error')).toBe('');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(model, 'utf16le')]);
    await page.setInputFiles('#model-file', { name: 'utf16.json', mimeType: 'application/json', buffer: utf16 });
    await page.waitForFunction(() => (document.querySelector('#model-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#model-error')).toBe(
      'utf16.json was not loaded: the file is UTF-16 text; save it as UTF-8.',
    );
    expect(problems).toEqual([]);
  });

  it('downloads the trained model, loads it to forecast, and goes on training from it', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    expect(await train(page)).toBe('finished');
    const fresh = (await statsRows(page)).cpu;

    const saved = await downloadOf(page, '#download-model');
    expect(saved.name).toBe('webgpu-lstm-sine-series-epoch-101.json');
    const file = JSON.parse(saved.text);
    expect(file).toMatchObject({
      format: 'webgpu-lstm/model',
      version: 3,
      config: { inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 },
      weights: { dtype: 'float32', byteOrder: 'little', encoding: 'base64', count: 3871 },
      normalisation: { method: 'none', columns: ['sine'], offset: [0], scale: [1] },
      data: { source: 'sine series', inputs: ['sine'], outputs: ['sine'], trainFraction: 1 },
      // The optimiser and its state, so a load goes on where training stopped (SGD has no slots).
      optimizer: {
        name: 'sgd',
        step: 505,
        slots: { count: 0, data: '' },
        loss: 'sse',
        settings: { name: 'sgd', clipNorm: null },
      },
    });
    // The same model as ONNX and as TF.js: what `export` makes of the downloaded model file.
    const model = readModelFile(file);
    const onnx = await downloadBytesOf(page, '#download-onnx');
    expect(onnx.name).toBe('webgpu-lstm-sine-series-epoch-101.onnx');
    expect(new Uint8Array(onnx.bytes)).toEqual(exportOnnx(model));
    const [modelJson, weights] = await Promise.all([
      page.waitForEvent('download'),
      page.waitForEvent('download', (d) => d.suggestedFilename().endsWith('.weights.bin')),
      page.click('#download-tfjs'),
    ]);
    expect([modelJson.suggestedFilename(), weights.suggestedFilename()]).toEqual([
      'webgpu-lstm-sine-series-epoch-101.model.json',
      'webgpu-lstm-sine-series-epoch-101.weights.bin',
    ]);
    const tfjs = exportTfjs(model, 'webgpu-lstm-sine-series-epoch-101.weights.bin');
    expect(JSON.parse((await downloadedBytes(modelJson)).toString('utf8'))).toEqual(
      JSON.parse(JSON.stringify(tfjs.modelJson)),
    );
    expect(new Uint8Array(await downloadedBytes(weights))).toEqual(tfjs.weights);

    await page.click('#reset');
    await setField(page, 'hidden', '12');
    await page.setInputFiles('#model-file', textFile('sine-model.json', saved.text, 'application/json'));
    await page.waitForFunction(() => (document.querySelector('#model-status')?.textContent ?? '').startsWith('Loaded'));
    expect(await page.textContent('#model-status')).toMatch(
      /^Loaded sine-model\.json: 1 → 30 → 1, window 10, trained on sine series for 101 epochs\./,
    );
    // The form takes the model's shape.
    expect(await page.inputValue('#field-hidden')).toBe('30');

    await page.click('#forecast');
    expect(await waitForPhase(page, ['finished'], 30_000)).toBe('finished');
    expect(await chartCounts(page, 'series-chart')).toMatchObject({
      'data (sine)': 50,
      'prediction (loaded model)': 40,
      'forecast (loaded model)': 40,
      'past the end (loaded model)': 25,
    });
    expect(await page.textContent('.lane .lane-status')).toBe('forecast');
    // The model file's history on the error chart, and its epoch in the row.
    expect((await chartCounts(page, 'error-chart'))['error (loaded model)']).toBe(101);
    expect(await page.textContent('#stats-body tr td')).toBe('101/101');

    // Training goes on from the loaded weights and numbers on from the model's epoch: 20 more epochs.
    await setField(page, 'epochs', '20');
    await page.click('#start');
    expect(await waitForPhase(page, ['finished'], 60_000)).toBe('finished');
    const resumed = (await statsRows(page)).cpu;
    // Epochs 102-121 after the model's 101, whose errors the chart keeps; the error stays where the
    // first run ended (a fresh start would begin near its first error, 20x higher).
    expect(resumed.epoch).toBe(121);
    expect((await chartCounts(page, 'error-chart'))['error (CPU)']).toBe(121);
    expect(resumed.firstError).toBe(fresh.firstError);
    expect(resumed.lastError).toBeLessThan(2 * fresh.lastError);
    expect(problems).toEqual([]);
  });

  it('trains with Adam, clipping and decay on the CPU and on WebGPU', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await setField(page, 'optimizer', 'adam');
    await setField(page, 'clip-norm', '5');
    await setField(page, 'lr-decay', '0.99');
    expect(await train(page)).toBe('finished');
    const cpu = (await statsRows(page)).cpu;
    expect(cpu.lastError).toBeLessThan(0.25 * cpu.firstError);
    // The link follows the settings (updated after a pause in typing).
    await page.waitForFunction(() => new URL(location.href).searchParams.get('optimizer') === 'adam');

    // The same settings on WebGPU (Adam, clipping and decay with their state on the GPU).
    await page.waitForFunction(
      () => !document.querySelector<HTMLInputElement>('input[name="backend"][value="webgpu"]')?.disabled,
    );
    await pickBackend(page, 'webgpu');
    expect(await train(page)).toBe('finished');
    const gpu = (await statsRows(page)).webgpu;
    expect(gpu.lastError).toBeLessThan(0.25 * gpu.firstError);
    expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });
    expect(problems).toEqual([]);
  });

  it('stops a diverging run with its epoch and a lower learning rate, keeping the restored weights', async () => {
    const { page, problems } = await open();
    await pickBackend(page, 'cpu');
    await setField(page, 'lr', '50');
    expect(await train(page)).toBe('stopped');
    const row = (await statsRows(page)).cpu;
    expect(row.status).toBe('diverged');
    const notice = await page.textContent('[data-notice="failed-cpu"] p');
    expect(notice).toMatch(
      /^The CPU run stopped: training diverged at epoch (\d+) \(.*\); the weights after epoch (\d+) were restored\. Try a lower learning rate \(now 50\)\.$/,
    );
    expect(await page.textContent('#field-lr-error')).toMatch(
      /^Training diverged at epoch \d+.*Try a lower learning rate/,
    );
    // The charts keep the last finite weights' predictions and every finite error.
    const series = await chartCounts(page, 'series-chart');
    expect(series['prediction (CPU)']).toBe(40);
    expect(await page.textContent('.lane-status')).toBe('diverged');
    expect(await liveResources(page)).toEqual({ workers: 0, gpuBackends: 0 });
    expect(problems).toEqual([]);
  });

  it("forecasts past the end on a known-ahead column's future rows, and says where it stops", async () => {
    // 60 rows of sales driven by a planned temperature, then 3 rows with the temperature only.
    const rows = Array.from({ length: 60 }, (_, i) => `${(20 + 5 * Math.sin(i / 3)).toFixed(3)},${100 + i}`);
    const csv = `${['temp,sales', ...rows, '21,', '22,', '23,'].join('\n')}\n`;
    const { page, problems } = await open({
      suffix: '?source=csv&inputs=temp&inputs=sales&outputs=sales&known=temp&backend=cpu&epochs=3&horizon=10',
    });
    await page.setInputFiles('#csv-file', textFile('sales.csv', csv));
    await page.waitForFunction(() =>
      (document.querySelector('#csv-status')?.textContent ?? '').startsWith('sales.csv:'),
    );
    expect(await page.textContent('#csv-status')).toContain('the last 3 rows have missing values');
    expect(await page.isChecked('#csv-columns-body tr[data-name="temp"] input[data-role="known"]')).toBe(true);
    // Said before training too, from the form's forecast steps.
    await page.waitForFunction(() =>
      (document.querySelector('#series-summary')?.textContent ?? '').includes('stops after 4 steps of 10'),
    );
    expect(await train(page)).toBe('finished');
    // Three future temperatures: 4 of the 10 steps past the end (drawn from the last value).
    expect((await chartCounts(page, 'series-chart'))['past the end (CPU)']).toBe(5);
    expect(await page.textContent('#series-summary')).toContain(
      'The forecast past the end reads "temp" (known ahead) from the file\'s 3 future rows',
    );
    expect(await page.textContent('#series-summary')).toContain('stops after 4 steps of 10');
    expect(problems).toEqual([]);
  });

  it('loads settings from the link into the form, explains what it refused, and keeps the link current', async () => {
    const { page, problems } = await open({
      suffix: '?source=bundled&dataset=co2&window=12&hidden=16,8&epochs=abc&lr=0.02&backend=cpu&colour=red',
    });
    expect(await page.inputValue('#field-source')).toBe('bundled');
    expect(await page.inputValue('#field-dataset')).toBe('co2');
    expect(await page.inputValue('#field-window')).toBe('12');
    expect(await page.inputValue('#field-hidden')).toBe('16,8');
    expect(await page.inputValue('#field-lr')).toBe('0.02');
    expect(await page.inputValue('#field-epochs')).toBe('101');
    expect(await page.textContent('#field-epochs-error')).toBe(
      'the link\'s value "abc" was refused (expected a number, got "abc"); the default, 101, is used',
    );
    expect(await page.isChecked('input[name="backend"][value="cpu"]')).toBe(true);
    expect(await page.textContent('[data-notice="link"] p')).toBe(
      'The link has settings this app does not know (colour); they were ignored.',
    );
    expect(await page.isVisible('[data-field="symbol"]')).toBe(false);
    await setField(page, 'epochs', '5');
    await page.waitForFunction(() => location.search.includes('epochs=5'));
    expect(new URL(page.url()).searchParams.get('window')).toBe('12');
    expect(await train(page)).toBe('finished');
    expect((await chartCounts(page, 'series-chart'))['data (CO2)']).toBeGreaterThan(700);
    expect(problems).toEqual([]);

    // A link to a CSV setup cannot carry the file: it asks for it, then chooses the link's columns.
    const csvLink = await open({
      suffix: '?source=csv&inputs=price&inputs=volume&outputs=price&known=volume&backend=cpu',
    });
    expect(await csvLink.page.isVisible('#csv-drop')).toBe(true);
    expect(await csvLink.page.textContent('#csv-status')).toBe(
      'This link trains on a CSV file, which a link cannot carry: choose the file (its columns "price", "volume" are chosen when it is read).',
    );
    await csvLink.page.setInputFiles('#csv-file', textFile('prices.csv', pricesCsv(60)));
    await csvLink.page.waitForFunction(() =>
      (document.querySelector('#csv-status')?.textContent ?? '').startsWith('prices.csv:'),
    );
    const checked = await csvLink.page.$$eval('#csv-columns-body input', (boxes) =>
      boxes.map(
        (box) =>
          `${box.getAttribute('data-role')} ${box.getAttribute('data-column')} ${(box as HTMLInputElement).checked}`,
      ),
    );
    // Three boxes a column: input, output, and known ahead (the link's `known`).
    expect(checked).toEqual([
      'inputs 0 true',
      'outputs 0 true',
      'known 0 false',
      'inputs 1 true',
      'outputs 1 false',
      'known 1 true',
    ]);
    expect(csvLink.problems).toEqual([]);
  });
});
