// The CLI's commands and their options: the training and bench settings from src/settings, plus
// what only a command line has (files, the backend, --json). Each command reads its options from
// here, and `help` is generated from here.

import type { ColumnRef } from '../data/windows.js';
import { describeValue, InputError } from '../model/errors.js';
import { BACKTEST_SETTINGS, LEVELS } from '../settings/backtest.js';
import { BENCH_SETTINGS } from '../settings/bench.js';
import { SEARCH_SETTINGS } from '../settings/search.js';
import { choice, custom, defineTable, flag, optional, type Setting, text, whole } from '../settings/setting.js';
import { OPTIMIZER_SETTINGS, SETTINGS } from '../settings/training.js';
import { BACKEND_CHOICES } from './backends.js';
import type { OptionList } from './options.js';

/** "price,2" → ['price', 2]: column names or 0-based indices. */
const columns = (help: string) =>
  custom<ColumnRef[] | undefined>({
    default: undefined,
    placeholder: 'COLS',
    valid: 'comma-separated column names or 0-based indices',
    help,
    parse: (value, field) => {
      const parts = value.split(',').map((part) => part.trim());
      if (parts.some((part) => part === '')) {
        throw new InputError(
          field,
          `expected comma-separated column names or 0-based indices, got ${describeValue(value)}`,
        );
      }
      return parts.map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    },
    format: (value) => (value ?? []).join(','),
  });

export const CLI_SETTINGS = defineTable({
  backend: choice(BACKEND_CHOICES, {
    default: 'auto',
    help: 'auto races the two briefly at this shape and batch and takes the faster here, saying why (the CPU without an adapter)',
  }),
  load: text({ placeholder: 'FILE', help: 'go on training from a model file' }),
  save: text({ placeholder: 'FILE', help: 'write the trained model as a model file' }),
  json: flag({ help: 'print exactly one JSON object on stdout instead of progress' }),
  data: text({ placeholder: 'FILE.csv', help: 'your own CSV (header, delimiter and a date column detected)' }),
  'date-column': text({ placeholder: 'NAME|none', help: 'the CSV’s date column, or none' }),
  inputs: columns('the columns the model reads (default: every value column)'),
  outputs: columns('the columns the model predicts (default: every value column but those known ahead)'),
  'known-ahead': columns(
    'inputs whose future values are known (a calendar, a planned temperature): a multi-step forecast reads them from the data, past its end from the rows whose outputs are empty',
  ),
  model: text({ placeholder: 'FILE', help: 'a model file' }),
  'data-seed': optional(
    whole({ default: 0, min: 0, max: 0xffffffff, help: '' }),
    'the data noise’s seed where it differs from --seed: member m of --members K --seed S trains alone as --seed S+m --data-seed S',
  ),
});

/** `gradients --batch FILE` is a batch file, not the minibatch size. */
export const BATCH_FILE = text({ placeholder: 'FILE', help: 'a batch file {"x": [B][T][I], "t": [B][O]}' })('batch');

/** `export --format`: the other runtime's file. */
export const EXPORT_FORMAT = choice(['onnx', 'tfjs'] as const, {
  default: 'onnx',
  help: 'onnx: one ONNX file (opset 17); tfjs: a TensorFlow.js Layers model, model.json and weights.bin',
})('format');
/** `export --out`: a file for ONNX, a folder for TF.js. */
export const EXPORT_OUT = text({
  placeholder: 'PATH',
  help: 'where to write: a file (onnx), or a folder for model.json and weights.bin (tfjs, made if missing)',
})('out');
/** `import --format`: what the folder holds. */
export const IMPORT_FORMAT = choice(['tfjs'] as const, {
  default: 'tfjs',
  help: 'tfjs: a TensorFlow.js Layers model (model.json and its weights files), from TF.js or Keras’s converter',
})('format');
/** `import --out`: the model file written. */
export const IMPORT_OUT = text({ placeholder: 'FILE', help: 'the model file to write' })('out');

const S = SETTINGS;
const C = CLI_SETTINGS;

/** The data options of `train` and `predict`: one source (a generated series by default), then columns. */
export const DATA_OPTIONS: OptionList = [
  S.series,
  S.points,
  S.noise,
  S.amplitude,
  S.period,
  S.periods,
  S.dataset,
  S.symbol,
  C.data,
  C['date-column'],
  S.missing,
  S.decimal,
  C.inputs,
  C.outputs,
  C['known-ahead'],
  S.split,
  S.validation,
  S.normalise,
  S.transform,
  S.season,
];

/** A backtest holds out each fold's rows after its origin itself, so it has no --split. */
const BACKTEST_DATA_OPTIONS: OptionList = DATA_OPTIONS.filter((setting) => setting !== S.split);

/** How `train` and `backtest` train a model. */
const TRAINING_OPTIONS: OptionList = [
  C.backend,
  S.hidden,
  S.window,
  S.batch,
  S.epochs,
  S.lr,
  S.seed,
  S.report,
  S.optimizer,
  ...Object.values(OPTIMIZER_SETTINGS),
  S['lr-decay'],
  S.loss,
  S.threads,
  S['best-epoch'],
  S.patience,
];

const B = BACKTEST_SETTINGS;
/** `predict --levels`: bands only when asked for (none by default). */
export const PREDICT_LEVELS = optional(
  LEVELS,
  'add lower_P,upper_P columns at each level: an ensemble’s members’ quantiles, else split conformal from the data’s last part',
)('levels');
/**
 * Window numbers as `inspect` reads them: one (`--window`) or a comma list (`--windows`). Their range
 * depends on the data, so inspect checks it and names it (src/cli/inspect.ts, chosenWindows).
 */
const windowNumbers = (several: boolean, help: string) =>
  custom<number[] | undefined>({
    default: undefined,
    placeholder: several ? 'N,N,…' : 'N',
    valid: several
      ? 'comma-separated window numbers (whole numbers from 0)'
      : 'a window number (a whole number from 0)',
    help,
    parse: (value, field) => {
      const parts = several ? value.split(',').map((part) => part.trim()) : [value.trim()];
      if (parts.some((part) => !/^\d{1,9}$/.test(part))) {
        const what = several
          ? 'comma-separated window numbers (whole numbers from 0)'
          : 'a window number (a whole number from 0)';
        throw new InputError(field, `expected ${what}, got ${describeValue(value)}`);
      }
      return parts.map(Number);
    },
    format: (value) => (value ?? []).join(','),
  });
/** `inspect --window N`: one window to probe, numbered over all the data's windows. */
export const INSPECT_WINDOW = windowNumbers(
  false,
  'the window to probe, numbered 0 (the first full window) on over all the data’s windows (default: the last held-out one)',
)('window');
/** `inspect --windows a,b`: several windows to probe. */
export const INSPECT_WINDOWS = windowNumbers(true, 'several windows to probe, numbered as --window')('windows');
const G = SEARCH_SETTINGS;
/** The training options but those a search lists (learning rate, hidden sizes, window). */
const SEARCH_TRAINING = TRAINING_OPTIONS.filter((o) => o !== S.lr && o !== S.hidden && o !== S.window);

export interface Command {
  name: string;
  /** What comes between the command and its options, in the usage line (import's DIR). */
  operand?: string;
  summary: string;
  options: OptionList;
  /** Options listed in the overview by their group's name instead of one by one. */
  shared?: { title: string; options: OptionList };
}

export const COMMANDS: readonly Command[] = [
  {
    name: 'train',
    summary: 'train an LSTM (by default the blog’s noisy sine task)',
    options: [...TRAINING_OPTIONS, S.members, C['data-seed'], B.horizon, B.levels, C.load, C.save, C.json],
    shared: { title: 'data options', options: DATA_OPTIONS },
  },
  {
    name: 'backtest',
    summary:
      'rolling-origin backtest: each fold trained on the rows before its origin, its multi-step forecasts scored per step against six benchmarks, with checked prediction intervals',
    options: [B.folds, B.horizon, B.step, B.levels, B.members, ...TRAINING_OPTIONS, C.json],
    shared: { title: 'data options (no --split: the folds hold out their own rows)', options: BACKTEST_DATA_OPTIONS },
  },
  {
    name: 'search',
    summary:
      'train every configuration of a grid (learning rates, hidden sizes, windows) with several seeds and choose one on the validation part',
    options: [G.lr, G.hidden, G.window, G.seeds, ...SEARCH_TRAINING, B.horizon, B.levels, C.save, C.json],
    shared: { title: 'data options', options: DATA_OPTIONS },
  },
  {
    name: 'predict',
    summary:
      'forecast past the end of the data (the model’s own by default) with a saved model (an ensemble: its members’ mean); prints CSV step,date|row,<outputs>[,bands]',
    options: [C.model, S.horizon, PREDICT_LEVELS, S.seed],
    shared: { title: 'data options', options: DATA_OPTIONS },
  },
  {
    name: 'inspect',
    summary:
      'inside a saved model: per layer its gates, cell and hidden state over chosen windows, gate saturation, dead units, and how far back it looks (connectivity per lag beside the AR baseline’s); a text summary, or everything with --json',
    options: [C.model, INSPECT_WINDOW, INSPECT_WINDOWS, S.seed, C.json],
    shared: { title: 'data options', options: DATA_OPTIONS },
  },
  {
    name: 'gradients',
    summary: 'one forward and backward pass, no update; prints {"loss","y","grads"} as JSON',
    options: [C.model, BATCH_FILE, C.backend],
  },
  {
    name: 'export',
    summary: 'write a model file as ONNX or TensorFlow.js, to predict elsewhere (docs/FILE-FORMATS.md, "Exporting")',
    options: [C.model, EXPORT_FORMAT, EXPORT_OUT],
  },
  {
    name: 'import',
    operand: 'DIR',
    summary:
      'a TensorFlow.js Layers model (LSTM layers and a Dense output) in folder DIR (or its model.json) as a model file',
    options: [IMPORT_FORMAT, IMPORT_OUT],
  },
  {
    name: 'bench',
    summary: 'steps per second, ms per step and GFLOP/s over hidden x batch, per backend',
    options: [...Object.values(BENCH_SETTINGS), C.json],
  },
];

/** Every option a command accepts. */
export function commandOptions(name: string): OptionList {
  const command = findCommand(name);
  return [...command.options, ...(command.shared?.options ?? [])];
}

export function unknownCommand(name: string): InputError {
  const names = COMMANDS.map((c) => c.name).join(', ');
  return new InputError('command', `unknown command ${describeValue(name)} (commands: ${names}, help)`);
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) throw unknownCommand(name);
  return command;
}

/** "  --window N    time steps per sample (default 10)", and what is valid below it where asked. */
function optionLines(option: Setting<unknown>, withValid: boolean): string[] {
  const usage = `--${option.name}${option.placeholder === '' ? '' : ` ${option.placeholder}`}`;
  const shown = option.format(option.default);
  const fallback = !option.helpShowsDefault || option.flag || shown === '' ? '' : ` (default ${shown})`;
  const also = option.aliases.length === 0 ? '' : ` (also ${option.aliases.map((a) => `--${a}`).join(', ')})`;
  const about = `${option.help}${fallback}${also}`;
  const indent = ' '.repeat(HELP_COLUMN);
  const lines =
    usage.length < HELP_COLUMN - 3
      ? [`  ${usage.padEnd(HELP_COLUMN - 2)}${about}`]
      : [`  ${usage}`, `${indent}${about}`];
  // Numbers' bounds; a choice's values are in its placeholder already, and a file is any name.
  if (withValid && NUMERIC.has(option.kind)) lines.push(`${indent}${option.valid}`);
  return lines;
}

const HELP_COLUMN = 33;
const NUMERIC = new Set(['whole', 'real', 'list']);

function listOptions(options: OptionList, withValid: boolean): string[] {
  return options.flatMap((option) => optionLines(option, withValid));
}

const USAGE_LINE = 'usage: npm run cli -- <command> [options]    (npm run cli -- help <command>: one command)';

/** Help for one command, with what each option accepts; or, without a command, every command. */
export function helpText(commandName?: string): string {
  if (commandName === undefined) {
    const blocks = COMMANDS.map((c) => {
      const shared = c.shared === undefined ? [] : [`  [${c.shared.title}]`];
      const operand = c.operand === undefined ? '' : ` ${c.operand}`;
      return [`${c.name}${operand}: ${c.summary}`, ...listOptions(c.options, false), ...shared].join('\n');
    });
    const data = [
      'data options (train, predict and backtest; one source, the blog’s sine if none):',
      ...listOptions(DATA_OPTIONS, false),
    ];
    return [USAGE_LINE, '', ...blocks.flatMap((b) => [b, '']), data.join('\n'), '', 'help: this text'].join('\n');
  }
  const command = findCommand(commandName);
  const operand = command.operand === undefined ? '' : ` ${command.operand}`;
  const lines = [
    `usage: npm run cli -- ${command.name}${operand} [options]`,
    '',
    `${command.name}${operand}: ${command.summary}`,
  ];
  lines.push(...listOptions(command.options, true));
  if (command.shared !== undefined)
    lines.push('', `${command.shared.title}:`, ...listOptions(command.shared.options, true));
  return lines.join('\n');
}
