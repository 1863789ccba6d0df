// The CSV reader on the 50 MB file of tests/data-csv.test.ts (1,600,000 rows of date,open,close with
// CRLF line ends), from a string (the default pieces) and from a Blob (4 MiB pieces, as the test):
//   node --expose-gc --import tsx --import ./scripts/register-raw.mjs scripts/bench-csv.ts [runs] [checkout]
//
// `checkout` is another checkout's root (the main branch's, say) to time its reader instead of this
// one's: run both by turns, each in its own process, so that load on a shared machine falls on both
// alike. Per run: the parse's wall time, the process's CPU time over it (all threads, the garbage
// collector's helpers too) and the garbage collector's pauses; then the medians.

import { dirname, join, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { minuteBarsCsv } from '../tests/large-csv.js';

type ParseCsv = typeof import('../src/data/csv.js').parseCsv;

const runs = Number(process.argv[2] ?? 3);
const root = resolve(process.argv[3] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const { parseCsv } = (await import(pathToFileURL(join(root, 'src/data/csv.ts')).href)) as { parseCsv: ParseCsv };

const rows = 1_600_000;
const { text } = minuteBarsCsv(rows);

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
const collect = (globalThis as { gc?: () => void }).gc;
const settle = () => new Promise((done) => setTimeout(done, 20));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const from of ['string', 'Blob'] as const) {
  const wall: number[] = [];
  const cpu: number[] = [];
  const gc: number[] = [];
  for (let run = 0; run < runs; run++) {
    const source = from === 'string' ? text : new Blob([text]);
    collect?.();
    await settle();
    gcMs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const table = await parseCsv(source, from === 'string' ? {} : { chunkSize: 4 * 1024 * 1024 });
    wall.push((performance.now() - t0) / 1000);
    const used = process.cpuUsage(cpu0);
    cpu.push((used.user + used.system) / 1e6);
    await settle();
    gc.push(gcMs / 1000);
    if (table.rows !== rows) throw new Error(`read ${table.rows} rows, expected ${rows}`);
  }
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  console.log(
    `${from.padEnd(6)} wall ${median(wall).toFixed(2)} s (${list(wall)}), CPU ${median(cpu).toFixed(2)} s (${list(cpu)}), ` +
      `GC ${median(gc).toFixed(2)} s (${list(gc)})  [${root}]`,
  );
}
