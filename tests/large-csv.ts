// The large CSV of the reader's test (tests/data-csv.test.ts) and its benchmark (scripts/bench-csv.ts):
// one generator, so that the benchmark times the file the test reads.

/** `rows` rows of `date,open,close` a minute apart from 1990-01-01, CRLF line ends; `lines[0]` is the header. */
export function minuteBarsCsv(rows: number): { text: string; lines: string[] } {
  const lines = new Array<string>(rows + 1);
  lines[0] = 'date,open,close';
  const start = Date.UTC(1990, 0, 1);
  for (let r = 0; r < rows; r++) {
    const date = new Date(start + r * 60_000).toISOString().slice(0, 16);
    lines[r + 1] = `${date},${(r % 1000) / 8},${-r}`;
  }
  return { text: lines.join('\r\n'), lines };
}
