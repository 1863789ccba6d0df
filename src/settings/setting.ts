// One setting as the CLI, the app, its links and the trainer all see it: a name (the CLI's --option,
// the app's field, the link's key), a default, bounds, a parser from text and a check of values
// that come from elsewhere (a model file, the trainer's caller), both with the same message, and a
// help line. The kinds below build settings; the tables (training.ts, bench.ts) list them.
// Nothing here touches the DOM or Node.

import { parseNumber, readDecimal } from '../data/decimal.js';
import { describeValue, InputError } from '../model/errors.js';

export type SettingKind = 'whole' | 'real' | 'choice' | 'list' | 'text' | 'flag';

export interface Setting<T> {
  readonly name: string;
  /** What sort of value: a form shows a number pad for whole and real numbers. */
  readonly kind: SettingKind;
  /** Other spellings the CLI accepts (--normalize for --normalise). */
  readonly aliases: readonly string[];
  readonly default: T;
  /** The value's form in help text: N, X, sgd|momentum|adam, N,N,… */
  readonly placeholder: string;
  /** What the setting does, one line for help text. */
  readonly help: string;
  /** What is valid, in words ("a whole number from 1 to 4096"). */
  readonly valid: string;
  /** A command-line switch without a value (--json). */
  readonly flag: boolean;
  /** Whether help text shows the default (not where it is only the app's first pick, as the dataset). */
  readonly helpShowsDefault: boolean;
  /** Text (an option's value, a form field, a link's value) to a value; an InputError on `field`. */
  parse(text: string, field?: string): T;
  /** A value from elsewhere (a file, a caller) against the same bounds, with the same messages. */
  check(value: unknown, field?: string): T;
  /** The value as text that parse reads back. */
  format(value: T): string;
}

/** A setting before its table gives it its name. */
export type Unnamed<S> = (name: string) => S;

/** Names each setting after its key, so the key, the option, the field and the link key are one name. */
export function defineTable<D extends Record<string, Unnamed<Setting<unknown>>>>(
  makers: D,
): { readonly [K in keyof D]: ReturnType<D[K]> } {
  const table: Record<string, Setting<unknown>> = {};
  for (const [name, make] of Object.entries(makers)) table[name] = make(name);
  return table as { readonly [K in keyof D]: ReturnType<D[K]> };
}

interface Describe<T> {
  default: T;
  help: string;
  aliases?: readonly string[];
  helpShowsDefault?: boolean;
}

// ---- Whole numbers ----

export interface WholeSetting extends Setting<number> {
  readonly min: number;
  readonly max: number;
  /** The same setting within tighter bounds (from the data, or the page's budget). */
  within(bounds: { min?: number; max?: number }): WholeSetting;
}

export function whole(spec: Describe<number> & { min: number; max: number }): Unnamed<WholeSetting> {
  return (name) => {
    const { min, max } = spec;
    const valid = `a whole number from ${min} to ${max}`;
    const check = (value: unknown, field = name): number => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw new InputError(field, `expected ${valid}, got ${describeValue(value)}`);
      }
      return value;
    };
    return {
      ...common(name, 'whole', spec, 'N', valid),
      min,
      max,
      parse: (text, field = name) => check(parseNumber(text, field), field),
      check,
      format: String,
      within: (bounds) =>
        whole({ ...spec, min: Math.max(min, bounds.min ?? min), max: Math.min(max, bounds.max ?? max) })(name),
    };
  };
}

// ---- Real numbers ----

export interface RealSetting extends Setting<number> {
  readonly min: number;
  readonly max: number;
  readonly minExclusive: boolean;
  readonly maxExclusive: boolean;
  /** The value reaches the kernels as float32, so float32's value of it must be within bounds too. */
  readonly float32: boolean;
}

interface RealBounds {
  min: number;
  max: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  float32?: boolean;
}

/** Below this, float32 values are subnormal, and GPUs may flush them to 0. */
export const SMALLEST_NORMAL_FLOAT32 = 2 ** -126;

/** What the kernels see of `value`: float32's rounding, subnormals flushed to 0. */
export function asFloat32(value: number): number {
  const rounded = Math.fround(value);
  return Math.abs(rounded) < SMALLEST_NORMAL_FLOAT32 ? 0 : rounded;
}

/** The float32 next to `value` (itself a float32 ≥ 0) upwards or downwards, by its bits. */
function float32Step(value: number, up: boolean): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  view.setUint32(0, view.getUint32(0) + (up ? 1 : -1));
  return view.getFloat32(0);
}

export function real(spec: Describe<number> & RealBounds): Unnamed<RealSetting> {
  return (name) => {
    const { min, max, minExclusive = false, maxExclusive = false, float32 = false } = spec;
    const low = minExclusive ? `greater than ${min}` : `at least ${min}`;
    const high = maxExclusive ? `below ${max}` : `at most ${max}`;
    const valid = `a number ${low} and ${high}`;
    const tooLow = (x: number) => (minExclusive ? x <= min : x < min);
    const tooHigh = (x: number) => (maxExclusive ? x >= max : x > max);
    // The float32 values nearest the bounds that are still within them (for the messages).
    let smallest = Math.max(asFloat32(min), SMALLEST_NORMAL_FLOAT32);
    while (tooLow(smallest)) smallest = float32Step(smallest, true);
    let largest = Math.fround(max);
    while (tooHigh(largest)) largest = float32Step(largest, false);
    const check = (value: unknown, field = name): number => {
      if (typeof value !== 'number' || !Number.isFinite(value) || tooLow(value) || tooHigh(value)) {
        throw new InputError(field, `expected ${valid}, got ${describeValue(value)}`);
      }
      const held = asFloat32(value);
      if (float32 && (tooLow(held) || tooHigh(held))) {
        const nearest = tooLow(held) ? `the smallest valid value is ${smallest}` : `the largest is ${largest}`;
        throw new InputError(
          field,
          `expected ${valid}, got ${value}, which float32 (the precision training runs in) holds as ${held}; ${nearest}`,
        );
      }
      return value;
    };
    return {
      ...common(name, 'real', spec, 'X', valid),
      min,
      max,
      minExclusive,
      maxExclusive,
      float32,
      parse: (text, field = name) => check(parseNumber(text, field), field),
      check,
      format: String,
    };
  };
}

/** A setting that may be left out: empty text or null means none. */
export function optional<T>(make: Unnamed<Setting<T>>, help: string): Unnamed<Setting<T | null>> {
  return (name) => {
    const inner = make(name);
    return {
      ...inner,
      default: null,
      help,
      valid: `${inner.valid}, or nothing for none`,
      parse: (text, field = name) => (text.trim() === '' ? null : inner.parse(text, field)),
      check: (value, field = name) => (value === null ? null : inner.check(value, field)),
      format: (value) => (value === null ? '' : inner.format(value)),
    };
  };
}

// ---- Choices ----

export interface ChoiceSetting<T extends string> extends Setting<T> {
  readonly values: readonly T[];
}

export function choice<T extends string>(values: readonly T[], spec: Describe<NoInfer<T>>): Unnamed<ChoiceSetting<T>> {
  return (name) => {
    const valid = `one of ${values.join(', ')}`;
    const check = (value: unknown, field = name): T => {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
        throw new InputError(field, `expected ${valid}, got ${describeValue(value)}`);
      }
      return value as T;
    };
    return { ...common(name, 'choice', spec, values.join('|'), valid), values, parse: check, check, format: String };
  };
}

// ---- Lists of whole numbers ----

export interface WholeListSetting extends Setting<number[]> {
  readonly min: number;
  readonly max: number;
  readonly maxItems: number;
}

/** "64, 32" → [64, 32]: a comma list of 1 to `maxItems` whole numbers from `min` to `max`. */
export function wholeList(
  spec: Describe<number[]> & { min: number; max: number; maxItems: number; items: string },
): Unnamed<WholeListSetting> {
  return (name) => {
    const { min, max, maxItems, items } = spec;
    const valid = `1 to ${maxItems} comma-separated whole numbers from ${min} to ${max}`;
    const count = (n: number, field: string) => {
      if (n < 1 || n > maxItems) throw new InputError(field, `expected 1 to ${maxItems} ${items}, got ${n}`);
    };
    const item = (x: unknown, field: string, shown: unknown) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
        throw new InputError(
          field,
          `expected comma-separated whole numbers from ${min} to ${max}, got ${describeValue(shown)}`,
        );
      }
      return x;
    };
    return {
      ...common(name, 'list', spec, 'N,N,…', valid),
      // A fresh copy each time: callers may keep or change the list they are given.
      get default() {
        return [...spec.default];
      },
      min,
      max,
      maxItems,
      parse: (text, field = name) => {
        const parts = text.split(',');
        count(parts.length, field);
        return parts.map((part) => item(readDecimal(part), field, text));
      },
      check: (value, field = name) => {
        if (!Array.isArray(value)) throw new InputError(field, `expected ${valid}, got ${describeValue(value)}`);
        count(value.length, field);
        return value.map((x, i) => item(x, `${field}[${i}]`, x));
      },
      format: (value) => value.join(', '),
    };
  };
}

// ---- Anything else the CLI reads: file names, switches, its own lists ----

export function custom<T>(
  spec: Describe<T> & {
    placeholder: string;
    valid: string;
    parse: (text: string, field: string) => T;
    /** Whether a value from elsewhere is valid; by default, text that parse accepts. */
    isValid?: (value: unknown) => boolean;
    format?: (value: T) => string;
  },
): Unnamed<Setting<T>> {
  return (name) => ({
    ...common(name, 'text', spec, spec.placeholder, spec.valid),
    parse: (text, field = name) => spec.parse(text, field),
    check: (value, field = name) => {
      if (spec.isValid !== undefined ? spec.isValid(value) : typeof value === 'string') {
        return spec.isValid !== undefined ? (value as T) : spec.parse(value as string, field);
      }
      throw new InputError(field, `expected ${spec.valid}, got ${describeValue(value)}`);
    },
    format: spec.format ?? String,
  });
}

/** A text value such as a file name: any text that is not empty. */
export function text(spec: { placeholder: string; help: string }): Unnamed<Setting<string | undefined>> {
  return custom<string | undefined>({
    ...spec,
    default: undefined,
    valid: 'a text that is not empty',
    parse: (value, field) => {
      if (value === '') throw new InputError(field, 'expected a value that is not empty');
      return value;
    },
    format: (value) => value ?? '',
  });
}

/** A command-line switch: given or not. */
export function flag(spec: { help: string }): Unnamed<Setting<boolean>> {
  return (name) => ({
    ...common(name, 'flag', { ...spec, default: false }, '', 'given or not'),
    flag: true,
    parse: () => true,
    check: (value, field = name) => {
      if (typeof value !== 'boolean')
        throw new InputError(field, `expected true or false, got ${describeValue(value)}`);
      return value;
    },
    format: String,
  });
}

function common<T>(name: string, kind: SettingKind, spec: Describe<T>, placeholder: string, valid: string) {
  return {
    name,
    kind,
    aliases: spec.aliases ?? [],
    default: spec.default,
    placeholder,
    help: spec.help,
    valid,
    flag: false,
    helpShowsDefault: spec.helpShowsDefault ?? true,
  };
}
