// Writes the gradient fixtures, tests/fixtures/gradients/<case>/{model,batch,expected}.json, from the
// float64 reference (tests/fixtures/reference64.ts):
//   npm run fixtures [-- --check] [case ...]
// --check also compares every gradient with central finite differences and prints the worst error.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawCase, FIXTURE_SPECS, finiteDifferences, fixtureFiles } from '../tests/fixtures/reference64.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures', 'gradients');

const args = process.argv.slice(2);
const check = args.includes('--check');
const names = args.filter((arg) => arg !== '--check');
const unknown = names.filter((name) => !FIXTURE_SPECS.some((spec) => spec.name === name));
if (unknown.length > 0) {
  console.error(
    `error: unknown case ${unknown.join(', ')}; the cases are ${FIXTURE_SPECS.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}

for (const spec of FIXTURE_SPECS.filter((s) => names.length === 0 || names.includes(s.name))) {
  const dir = join(outDir, spec.name);
  mkdirSync(dir, { recursive: true });
  // JSON.stringify writes each float64 as the shortest text that reads back to the same value.
  for (const [file, value] of Object.entries(fixtureFiles(spec))) {
    writeFileSync(join(dir, `${file}.json`), `${JSON.stringify(value)}\n`);
  }
  let line = `${spec.name}: wrote ${dir}`;
  if (check) {
    const { params, batch } = drawCase(spec);
    const worst = Math.max(
      ...finiteDifferences(params, batch).map(
        ({ analytic, numeric }) => Math.abs(analytic - numeric) / Math.max(1, Math.abs(analytic)),
      ),
    );
    line += `; finite differences: worst |analytic - numeric| / max(1, |analytic|) = ${worst.toExponential(2)}`;
  }
  console.log(line);
}
