// Parses the user's CSV off the page's main thread (src/app/csvPicker.ts starts one per file and
// terminates it after the answer or on abort), so no file, however large or hostile, freezes the page.
// In: one CsvParseRequest. Out: progress fractions, then the table (its columns transferred) or the
// failure as the page shows it.

import { type CsvOptions, type CsvTable, parseCsv } from '../data/csv.js';
import { describeFailure } from './failure.js';
import type { RunFailure } from './protocol.js';

export interface CsvParseRequest {
  file: File;
  options: CsvOptions;
}

export type CsvParseReply =
  | { type: 'progress'; fraction: number }
  | { type: 'table'; table: CsvTable }
  | { type: 'error'; failure: RunFailure };

// The project's lib is DOM (not WebWorker); a dedicated worker's scope posts like a port.
const scope = self as unknown as {
  postMessage(message: CsvParseReply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<CsvParseRequest>) => void) | null;
};

scope.onmessage = async (event: MessageEvent<CsvParseRequest>) => {
  const { file, options } = event.data;
  try {
    const table = await parseCsv(file, {
      ...options,
      onProgress: (fraction) => scope.postMessage({ type: 'progress', fraction }),
    });
    scope.postMessage(
      { type: 'table', table },
      table.values.map((column) => column.buffer),
    );
  } catch (err) {
    scope.postMessage({ type: 'error', failure: describeFailure(err) });
  }
};
