// Command-line options: node's strict parseArgs for the syntax, over a command's settings (their
// names and aliases, src/cli/commands.ts), then each value through its setting's own parser, which
// names the option when the value is wrong (InputError → exit 2).

import { parseArgs } from 'node:util';
import { describeValue, InputError } from '../model/errors.js';
import type { Setting } from '../settings/setting.js';

export type ParsedOptions = Record<string, string | boolean | undefined>;
export type OptionList = readonly Setting<unknown>[];

/** No option needs a longer value (a file name, a list of CSV columns); longer ones are refused unread. */
export const MAX_OPTION_TEXT = 65_536;

export function parseOptions(command: string, argv: string[], options: OptionList): ParsedOptions {
  return parseCommandLine(command, argv, options).values;
}

/**
 * The options, and up to `positionals` arguments that are not options (`import`'s folder), in order;
 * `positionalName` names them in the message for one too many.
 */
export function parseCommandLine(
  command: string,
  argv: string[],
  options: OptionList,
  positionals = 0,
  positionalName = 'argument',
): { values: ParsedOptions; positionals: string[] } {
  const spec: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const option of options) {
    for (const name of [option.name, ...option.aliases]) spec[name] = { type: option.flag ? 'boolean' : 'string' };
  }
  let parsed: { values: ParsedOptions; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, spec), options: spec, strict: true, allowPositionals: true });
  } catch (err) {
    const missing = missingValue(err, argv, options);
    if (missing !== null) throw missing;
    // parseArgs' messages name the option already; keep them to one short line.
    const message = (err as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new InputError(command, `${shorten(message)} (options are ${optionList(options)})`);
  }
  if (parsed.positionals.length > positionals) {
    const expected = positionals === 0 ? `options are ${optionList(options)}` : `one ${positionalName}, then options`;
    throw new InputError(
      command,
      `unexpected argument ${describeValue(parsed.positionals[positionals])} (${expected})`,
    );
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string' && value.length > MAX_OPTION_TEXT) {
      throw new InputError(
        `--${name}`,
        `expected at most ${MAX_OPTION_TEXT} characters, got ${value.length.toLocaleString('en-US')}`,
      );
    }
  }
  return parsed;
}

/**
 * `--horizon -1` as `--horizon=-1`: parseArgs takes a value that starts with a dash for an option and
 * calls the pair ambiguous, where a negative number is plainly the value (and gets the range message).
 */
function joinNegativeValues(argv: string[], spec: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    const next = argv[i + 1];
    if (name !== null && spec[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|inf|nan)/i.test(next)) {
      args.push(`${argv[i]}=${next}`);
      i++;
    } else args.push(argv[i]);
  }
  return args;
}

/**
 * An option given without its value (last, or followed by another option: `--lr --epochs 3`) as an
 * InputError naming it and what is valid; parseArgs says "argument missing" or "argument is ambiguous".
 */
function missingValue(err: unknown, argv: string[], options: OptionList): InputError | null {
  if ((err as { code?: string }).code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return null;
  const name = /^Option '--([\w-]+)/.exec((err as Error).message)?.[1];
  const option = options.find((o) => o.name === name || o.aliases.includes(name ?? ''));
  if (name === undefined || option === undefined) return null;
  const at = argv.indexOf(`--${name}`);
  const next = at >= 0 ? argv[at + 1] : undefined;
  const got = next === undefined ? 'nothing after it' : `the option ${describeValue(next)} after it`;
  return new InputError(`--${name}`, `expected a value (${option.valid}), got ${got}`);
}

function shorten(message: string): string {
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

function optionList(options: OptionList): string {
  return options.map((option) => `--${option.name}`).join(', ');
}

/** The option's value as its setting reads it (an error names the option as typed), or undefined if not given. */
export function optionValue<T>(values: ParsedOptions, setting: Setting<T>): T | undefined {
  const given = [setting.name, ...setting.aliases].filter((name) => values[name] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length > 1) throw new InputError(`--${given[1]}`, `is the same option as --${given[0]}: give one`);
  const value = values[given[0]];
  return typeof value === 'boolean' ? setting.check(value, `--${given[0]}`) : setting.parse(value!, `--${given[0]}`);
}

/**
 * The option's value, or `fallback` when the option is not given; an undefined `fallback` (a loaded
 * model without that setting, say) means the setting's default.
 */
export function option<T>(values: ParsedOptions, setting: Setting<T>, fallback: T = setting.default): T {
  const value = optionValue(values, setting);
  return value === undefined ? fallback : value;
}

/** A file option that must be given. */
export function requiredOption<T>(values: ParsedOptions, setting: Setting<T | undefined>): T {
  const value = optionValue(values, setting);
  if (value === undefined) throw new InputError(`--${setting.name}`, 'is required');
  return value;
}
