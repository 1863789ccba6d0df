// Parses the user's CSV off the page's main thread (src/app/csvPicker.ts starts one per file and
// terminates it after the answer or on abort), so no file, however large or hostile, freezes the page.
// In: one CsvParseRequest. Out: progress fractions, then the table in columns (packedTable.ts) or the
// failure as the page shows it.

import { type CsvOptions, type CsvTable, parseCsv } from '../data/csv.js';
import { describeFailure } from './failure.js';
import { type PackedTable, packTable, tableTransfer } from './packedTable.js';
import { type JobReply, workerScope } from './workerJob.js';

export interface CsvParseRequest {
  file: File;
  options: CsvOptions;
}

export type CsvParseReply = JobReply<PackedTable | CsvTable>;

workerScope.onmessage = async (event: MessageEvent<CsvParseRequest>) => {
  const { file, options } = event.data;
  try {
    const table = packTable(
      await parseCsv(file, {
        ...options,
        onProgress: (fraction) => workerScope.postMessage({ type: 'progress', fraction } satisfies CsvParseReply),
      }),
    );
    workerScope.postMessage({ type: 'result', result: table } satisfies CsvParseReply, tableTransfer(table));
  } catch (err) {
    workerScope.postMessage({ type: 'error', failure: describeFailure(err) } satisfies CsvParseReply);
  }
};
