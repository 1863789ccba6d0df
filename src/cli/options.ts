// Command-line option parsing shared by every command: node's strict parseArgs for the syntax, then
// typed readers that check each value and name the option when it is wrong (InputError → exit 2).

import { parseArgs } from 'node:util';
import { InputError } from '../model/errors.js';
import { LIMITS } from '../model/validate.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;
export type ParsedOptions = Record<string, string | boolean | undefined>;

export function parseOptions(command: string, argv: string[], spec: OptionSpec): ParsedOptions {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: true });
    if (positionals.length > 0) {
      throw new InputError(command, `unexpected argument "${positionals[0]}" (options are ${optionList(spec)})`);
    }
    return values as ParsedOptions;
  } catch (err) {
    if (err instanceof InputError) throw err;
    // parseArgs' messages name the option already; keep them to one line.
    const message = (err as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new InputError(command, `${message} (options are ${optionList(spec)})`);
  }
}

function optionList(spec: OptionSpec): string {
  return Object.keys(spec)
    .map((name) => `--${name}`)
    .join(', ');
}

export function stringOption(values: ParsedOptions, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(values: ParsedOptions, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw new InputError(`--${name}`, 'is required');
  return value;
}

/** Plain decimal notation only: "0x10", "0b1" or "Infinity" are not what a person means by a number here. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function parseNumber(text: string, name: string): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isFinite(value)) throw new InputError(`--${name}`, `expected a number, got "${text}"`);
  return value;
}

export function intOption(values: ParsedOptions, name: string, fallback: number, min: number, max: number): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const value = parseNumber(text, name);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InputError(`--${name}`, `expected a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

export function numberOption(
  values: ParsedOptions,
  name: string,
  fallback: number,
  check: { min: number; max: number; minExclusive?: boolean },
): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const value = parseNumber(text, name);
  const tooLow = check.minExclusive ? value <= check.min : value < check.min;
  if (tooLow || value > check.max) {
    const low = check.minExclusive ? `greater than ${check.min}` : `at least ${check.min}`;
    throw new InputError(`--${name}`, `expected a number ${low} and at most ${check.max}, got "${text}"`);
  }
  return value;
}

/** A comma list of whole numbers, e.g. --hidden 64,32. */
export function intListOption(
  values: ParsedOptions,
  name: string,
  fallback: number[],
  min: number,
  max: number,
  maxItems: number,
): number[] {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const parts = text.split(',');
  if (parts.length < 1 || parts.length > maxItems) {
    throw new InputError(`--${name}`, `expected 1 to ${maxItems} comma-separated whole numbers, got "${text}"`);
  }
  return parts.map((part) => {
    const value = DECIMAL.test(part.trim()) ? Number(part) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InputError(
        `--${name}`,
        `expected comma-separated whole numbers from ${min} to ${max}, got "${text}" ("${part}" is not)`,
      );
    }
    return value;
  });
}

export const HIDDEN_BOUNDS = { min: 1, max: LIMITS.hiddenSize, maxLayers: LIMITS.layers } as const;
