// The CLI against the attacks of issue 33 (reliability, third pass): files under the size limit that
// would crash or hang a JSON or CSV reader, a model file that reaches outside (its data origin, escape
// sequences, a horizon that runs for hours), exports a spreadsheet would run, saves that could not be
// read back, names past NAME_MAX, negative option values, Ctrl-C, a CPU model past WebAssembly's
// memory. The cases that need a real process (exit status, signals, memory) are spawned, the attack
// files written to a temporary folder at test time; the rest run in-process.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuMemoryProblem } from '../src/cli/backends.js';
import { writeFileAtomic } from '../src/cli/files.js';
import { predictCommand } from '../src/cli/predict.js';
import { Rng } from '../src/data/rng.js';
import { initParams } from '../src/model/init.js';
import { paramLayout } from '../src/model/layout.js';
import { type Model, toModelFile } from '../src/train/modelFile.js';
import { csvCell, writeCsv } from '../src/util/csvWrite.js';
import { CLI_ARGS, cli, repoRoot, temporaryFolder } from './helpers.js';

const tmp = temporaryFolder('webgpu-lstm-cli-attacks-');

function write(name: string, content: string | Buffer): string {
  const path = join(tmp, name);
  fs.writeFileSync(path, content);
  return path;
}

/** A small sine model (window 10, one input and output) with `extra` fields, as a version-3 file's JSON. */
function modelFile(extra: Partial<Model> = {}): Record<string, unknown> {
  const config = { inputSize: 1, hiddenSizes: [4], outputSize: 1, window: 10 };
  const layout = paramLayout(config);
  return JSON.parse(JSON.stringify(toModelFile({ config, layout, params: initParams(layout, new Rng(3)), ...extra })));
}

/** Exit 2 within `seconds`, exactly one line on stderr matching `message`, nothing on stdout. */
async function expectRefusal(args: string[], message: RegExp | string, seconds = 5): Promise<{ stderr: string }> {
  const started = performance.now();
  const result = await cli(args);
  const elapsed = (performance.now() - started) / 1000;
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  expect(elapsed).toBeLessThan(seconds + 5);
  return result;
}

describe('model files that would crash or hang a JSON reader', () => {
  it('refuses 100 MB of nested `[` at once, where JSON.parse ran out of memory (exit 134)', async () => {
    const deep = write('deep.json', Buffer.alloc(100 * 2 ** 20, '['));
    await expectRefusal(
      ['predict', '--model', deep],
      `error: --model ${deep}: nests arrays and objects more than 64 levels deep (at byte 64); refused before parsing`,
    );
  });

  it('refuses a 109 MB object of 8.5 million keys at once, where JSON.parse took minutes', async () => {
    const path = join(tmp, 'keys.json');
    const fd = fs.openSync(path, 'w');
    fs.writeSync(fd, '{');
    const keysPerChunk = 100_000;
    for (let k = 0; k < 8_500_000; k += keysPerChunk) {
      const chunk = Array.from({ length: keysPerChunk }, (_, i) => `"key${k + i}":0`).join(',');
      fs.writeSync(fd, k === 0 ? chunk : `,${chunk}`);
    }
    fs.writeSync(fd, '}');
    fs.closeSync(fd);
    expect(fs.statSync(path).size).toBeGreaterThan(100_000_000);
    await expectRefusal(
      ['predict', '--model', path],
      /^error: --model .*keys\.json: has an object of more than 1,000 keys/,
    );
  });

  it('refuses at load what it could not save: a loss of 1e39, naming it, before any training', async () => {
    const file = modelFile();
    file.training = { epoch: 1, losses: [1e39], validationLosses: [], rng: { s: [1, 2, 3, 4] } };
    const path = write('loss.json', JSON.stringify(file));
    await expectRefusal(
      ['train', '--backend', 'cpu', '--load', path, '--save', join(tmp, 'never.json')],
      'error: training.losses[0]: expected a number finite in float32 (at most 3.4028235e38 in magnitude), got 1e+39',
    );
    expect(fs.existsSync(join(tmp, 'never.json'))).toBe(false);
  });
});

describe('a model file cannot reach outside', () => {
  const secret = write('secret.txt', 'root:$6$SECRET-HASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');
  const withOrigin = (fileName: string) =>
    JSON.stringify({
      ...modelFile(),
      data: {
        source: 'prices.csv',
        inputs: ['price'],
        outputs: ['price'],
        trainFraction: 0.8,
        origin: { kind: 'csv', fileName, dateColumn: null },
      },
    });

  it('reads the CSV its data origin names only as a CSV, says so, and never echoes the file', async () => {
    const result = await cli(['predict', '--model', write('origin.json', withOrigin(secret))]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/SECRET|root|daemon/);
    const [note, error, ...rest] = result.stderr.trimEnd().split('\n');
    expect(note).toBe(
      `note: reading the model's data from "${secret}", as its file names it (give --data FILE for other data)`,
    );
    expect(error).toBe(
      `error: --data: the model was trained on "${secret}", which is not a CSV this model can read; give --data FILE`,
    );
    expect(rest).toEqual([]);
    // A CSV, but without the model's columns: said without listing the file's.
    const other = write('other.csv', 'when,SECRETCOLUMN\n1,2\n2,3\n3,4\n');
    const columns = await cli(['predict', '--model', write('origin-other.json', withOrigin(other))]);
    expect(columns.stderr).not.toMatch(/SECRET/);
    expect(columns.stderr).toMatch(/which has no column of numbers named "price"; give --data FILE\n$/);
  });

  it('escapes control characters in every path and value it prints', async () => {
    const crafted = `${tmp}/\u001b]0;owned\u0007\u001b[2J\u202e.csv`;
    const result = await cli(['predict', '--model', write('escapes.json', withOrigin(crafted))]);
    expect(result.status).toBe(2);
    const raw = [...result.stderr].filter((ch) => {
      const code = ch.charCodeAt(0);
      return (code < 32 && ch !== '\n') || code === 0x7f || code === 0x202e;
    });
    expect(raw).toEqual([]);
    expect(result.stderr).toContain('\\u001b]0;owned\\u0007\\u001b[2J\\u202e.csv');
  });

  it('refuses a horizon past its bound, in a model file or as an option, and a negative one by its range', async () => {
    const file = modelFile({ settings: { horizon: 10_000 } });
    (file.settings as { horizon: number }).horizon = 1_000_000;
    const path = write('horizon.json', JSON.stringify(file));
    await expectRefusal(
      ['predict', '--model', path],
      'error: settings.horizon: expected a whole number from 1 to 10000, got 1000000',
    );
    const ok = write('horizon-ok.json', JSON.stringify(modelFile()));
    await expectRefusal(
      ['predict', '--model', ok, '--horizon', '-1'],
      'error: --horizon: expected a whole number from 1 to 10000, got -1',
    );
    await expectRefusal(
      ['predict', '--model', ok, '--steps', '10001'],
      /^error: --steps: expected a whole number from 1 to 10000/,
    );
  });
});

describe('exports safe to open', () => {
  it('every CSV writer escapes a text cell that starts a formula (OWASP), and leaves numbers alone', async () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${start}1+1`)).toBe(`'${start}1+1`);
    expect(['-0.5', '+3e-7', '12', '', 'price', '2024-01-01'].map(csvCell)).toEqual([
      '-0.5',
      '+3e-7',
      '12',
      '',
      'price',
      '2024-01-01',
    ]);
    expect(csvCell(-2.5)).toBe('-2.5');
    expect(writeCsv(['step', '@SUM(A1)', 'note'], [[1, -0.25, '-x']])).toBe(`step,"'@SUM(A1)",note\n1,-0.25,"'-x"\n`);
  });

  it("predict's CSV escapes a column name a spreadsheet would run, and keeps numbers numbers", async () => {
    const name = "=cmd|' /C calc'!A0";
    const csv = write(
      'formula.csv',
      `"${name.replace(/"/g, '""')}"\n${Array.from({ length: 30 }, (_, i) => -1 - i / 10).join('\n')}\n`,
    );
    const model = write(
      'formula-model.json',
      JSON.stringify({
        ...modelFile(),
        data: { source: 'formula.csv', inputs: [name], outputs: [name], trainFraction: 1 },
      }),
    );
    let out = '';
    await predictCommand(['--model', model, '--data', csv, '--horizon', '3'], (text) => {
      out += text;
    });
    const [header, first] = out.split('\n');
    expect(header).toBe(`step,row,"'=cmd|' /C calc'!A0"`);
    expect(first).toMatch(/^1,31,-?\d/);
  });
});

describe('saves', () => {
  it('writes a 250-byte name (the temporary name fits NAME_MAX), and nothing else beside it', async () => {
    const folder = fs.mkdtempSync(join(tmp, 'long-'));
    const name = `${'m'.repeat(245)}.json`;
    writeFileAtomic(join(folder, name), 'model\n', '--save');
    expect(fs.readdirSync(folder)).toEqual([name]);
    const wide = `${'é'.repeat(122)}.json`;
    expect(Buffer.byteLength(wide)).toBe(249);
    writeFileAtomic(join(folder, wide), 'model\n', '--save');
    expect(fs.readFileSync(join(folder, wide), 'utf8')).toBe('model\n');
  });

  it('refuses before training a model whose file could not be read back, with the limit and the way out', async () => {
    await expectRefusal(
      ['train', '--backend', 'cpu', '--hidden', '4094', '--optimizer', 'adam', '--save', join(tmp, 'huge.json')],
      /^error: --save: the model file of 67,080,191 parameters with adam's state would be up to 1024\.6 MiB; at most 512 MiB can be read back, so it is not saved: use fewer hidden units/,
    );
  });

  it('Ctrl-C says how far the run got and that its progress was not saved; the old model stays', async () => {
    const target = write('kept.json', `${JSON.stringify(modelFile())}\n`);
    const old = fs.readFileSync(target, 'utf8');
    const child = spawn(
      process.execPath,
      [...CLI_ARGS, 'train', '--backend', 'cpu', '--epochs', '1000000', '--report', '1', '--save', target],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (!/epoch +2\//.test(stdout) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(
      new RegExp(
        `^interrupted after epoch \\d+: the run's progress was not saved; ${target} is as it was before the run\\n$`,
      ),
    );
    expect(fs.readFileSync(target, 'utf8')).toBe(old);
  }, 60_000);
});

describe('a CPU model past WebAssembly memory', () => {
  it('is one line on stderr and exit 2 on the CPU backend, where a stack trace was', async () => {
    const result = await cli([
      'train',
      '--backend',
      'cpu',
      '--hidden',
      '1000',
      '--window',
      '4096',
      '--points',
      '4500',
      '--batch',
      '64',
      '--epochs',
      '1',
    ]);
    expect(result.stderr).toMatch(
      /^error: backend: the CPU backend needs [\d.]+ GiB for hidden 1000, window 4096 and batch 64, more than WebAssembly memory holds \(4 GiB\); use fewer hidden units, a shorter window or a smaller batch, or the webgpu backend\n$/,
    );
    expect(result.status).toBe(2);
  });

  it('auto goes to WebGPU without racing where the CPU cannot hold the model', async () => {
    const layout = paramLayout({ inputSize: 1, hiddenSizes: [1000], outputSize: 1, window: 4096 });
    expect(cpuMemoryProblem(layout, 64)).toMatch(
      /^the CPU backend would need [\d.]+ GiB, more than WebAssembly memory holds \(4 GiB\)$/,
    );
    expect(cpuMemoryProblem(paramLayout({ inputSize: 1, hiddenSizes: [30], outputSize: 1, window: 10 }), 8)).toBeNull();
  });
});

describe('CSVs that would take minutes', () => {
  it('refuses 100,000 columns at once, where reading them took 32 s', async () => {
    const header = Array.from({ length: 100_000 }, (_, c) => `c${c}`).join(',');
    const wide = write('wide.csv', `${header}\n${Array(100_000).fill('1').join(',')}\n`);
    await expectRefusal(
      ['train', '--backend', 'cpu', '--data', wide],
      /^error: --data .*wide\.csv: row 1: has more than 4,096 columns \(separated by commas\); at most 4,096 can be read\n$/,
    );
  });
});
