// The whole setup as a link: the settings live in the page's query string (?window=20&hidden=64,32),
// one key per form field (the same names as the form and the CLI), only where a value differs from
// its default, plus the backend and a CSV's column choices (the file itself cannot travel in a link).
// Reading a link is strict: each value goes through the form's own parser, and a value that is
// refused is reported for its field (the page shows it there) while the field keeps its default;
// keys the app does not know are reported, never guessed at.

import { describeValue, InputError } from '../model/errors.js';
import { SETTINGS } from '../settings/training.js';
import {
  defaultFieldValues,
  FIELDS,
  type FieldName,
  type FieldValues,
  fieldApplies,
  fieldSpec,
  isFieldName,
  type SourceKind,
} from './fields.js';
import { APP_BACKEND, type AppBackendChoice, messageOf, parseSettings } from './settings.js';

/** A CSV's columns as a link carries them (null / undefined: not in the link, the page chooses). */
export interface LinkColumns {
  inputs: string[] | null;
  outputs: string[] | null;
  /** Columns marked known ahead (read from the file's future rows where they are inputs, not outputs). */
  knownAhead: string[] | null;
  /** The date column; null for none, undefined to let the parser find one. */
  date: string | null | undefined;
}

export type LinkKey = FieldName | 'backend' | 'inputs' | 'outputs' | 'known' | 'date';

export interface LinkSetup {
  /** Every field's value: the link's where it was accepted, the default otherwise. */
  values: FieldValues;
  /** The backend the link asks for, or null. */
  backend: AppBackendChoice | null;
  columns: LinkColumns;
  /** Why a key's value was refused (the field keeps its default). */
  errors: Partial<Record<LinkKey, string>>;
  /** Keys this app does not know, ignored. */
  unknown: string[];
}

const LIST_KEYS = new Set(['inputs', 'outputs', 'known']);
const OTHER_KEYS = new Set(['backend', 'date', ...LIST_KEYS]);

/** "expected one of a, b": a choice's message without the value (the link's message quotes it). */
function choiceReason(err: InputError): string {
  return messageOf(err).replace(/, got .*$/, '');
}

function refused(raw: string, reason: string, fallback: string): string {
  const used = fallback === '' ? 'the field is left empty' : `the default, ${fallback}, is used`;
  return `the link's value ${describeValue(raw)} was refused (${reason}); ${used}`;
}

type LinkErrors = Partial<Record<LinkKey, string>>;

/** Reads a query string (with or without its "?"). */
export function readLink(query: string): LinkSetup {
  const params = linkParams(query);
  const errors: LinkErrors = {};
  const { given, unknown } = sortKeys(params, errors);
  const defaults = sourceDefaults(given, errors);
  const values = acceptedValues(given, defaults, errors);
  settleValues(values, given, defaults, errors);
  const backend = linkBackend(params.get('backend') ?? [], errors);
  const columns = linkColumns(params, errors);
  return { values, backend, columns, errors, unknown };
}

/** Each key's values in one pass (getAll per key would be quadratic in a link's length). */
function linkParams(query: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(query)) {
    const values = params.get(key);
    if (values === undefined) params.set(key, [value]);
    else values.push(value);
  }
  return params;
}

/** The fields' values the link gives once, and the keys it does not know; a key given twice is refused. */
function sortKeys(
  params: Map<string, string[]>,
  errors: LinkErrors,
): { given: Map<FieldName, string>; unknown: string[] } {
  const unknown: string[] = [];
  const given = new Map<FieldName, string>();
  for (const [key, all] of params) {
    if (!isFieldName(key) && !OTHER_KEYS.has(key)) {
      unknown.push(key);
      continue;
    }
    if (all.length > 1 && !LIST_KEYS.has(key)) {
      errors[key as LinkKey] = `the link gives ${key} ${all.length} times; its default is used`;
      continue;
    }
    if (isFieldName(key)) given.set(key, all[0]);
  }
  return { given, unknown };
}

/**
 * Every field's default for the link's source (the other defaults depend on it) and, for a bundled
 * series, its dataset, where the link's are valid; a refused source is dropped from `given`.
 */
function sourceDefaults(given: Map<FieldName, string>, errors: LinkErrors): FieldValues {
  let source: SourceKind = 'generated';
  const sourceText = given.get('source');
  if (sourceText !== undefined) {
    try {
      source = SETTINGS.source.parse(sourceText);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors.source = refused(sourceText, choiceReason(err), source);
      given.delete('source');
    }
  }
  const datasetText = given.get('dataset');
  const dataset =
    datasetText !== undefined && (SETTINGS.dataset.values as readonly string[]).includes(datasetText)
      ? datasetText
      : undefined;
  return defaultFieldValues(source, dataset);
}

/** The defaults with the link's values over them; a choice the link gets wrong is refused and dropped. */
function acceptedValues(given: Map<FieldName, string>, defaults: FieldValues, errors: LinkErrors): FieldValues {
  const values: FieldValues = { ...defaults };
  for (const [name, text] of given) {
    const { setting } = fieldSpec(name);
    try {
      if (setting.kind === 'choice') setting.parse(text);
      values[name] = text;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors[name] = refused(text, choiceReason(err), defaults[name]);
      given.delete(name);
    }
  }
  return values;
}

/**
 * Each refused value falls back to its default, which can settle a field that depended on it (points
 * on the window, say), so `values` are parsed again until only fields the link did not set are at fault.
 */
function settleValues(
  values: FieldValues,
  given: Map<FieldName, string>,
  defaults: FieldValues,
  errors: LinkErrors,
): void {
  for (let round = 0; round < FIELDS.length; round++) {
    const result = parseSettings(values);
    if (result.ok) return;
    const atFault = [...given.keys()].filter((name) => result.errors[name] !== undefined);
    if (atFault.length === 0) {
      // Fields at their defaults, refused only next to values the link set: shown as the form would.
      for (const [name, message] of Object.entries(result.errors) as [FieldName, string][]) errors[name] = message;
      return;
    }
    for (const name of atFault) {
      errors[name] = refused(given.get(name)!, result.errors[name]!, defaults[name]);
      values[name] = defaults[name];
      given.delete(name);
    }
  }
}

/** The backend the link asks for (given once), or null. */
function linkBackend(texts: string[], errors: LinkErrors): AppBackendChoice | null {
  if (texts.length !== 1) return null;
  try {
    return APP_BACKEND.parse(texts[0]);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    errors.backend = refused(texts[0], choiceReason(err), 'the page’s choice');
    return null;
  }
}

/** A CSV's columns as the link names them. */
function linkColumns(params: Map<string, string[]>, errors: LinkErrors): LinkColumns {
  const list = (key: 'inputs' | 'outputs' | 'known'): string[] | null => {
    const names = params.get(key) ?? [];
    if (names.length === 0) return null;
    if (names.some((name) => name === '')) {
      errors[key] =
        `the link names an empty ${key === 'known' ? 'known-ahead' : key} column; the page's choice is used`;
      return null;
    }
    return names;
  };
  const dateText = params.get('date') ?? [];
  return {
    inputs: list('inputs'),
    outputs: list('outputs'),
    knownAhead: list('known'),
    date: dateText.length === 1 ? (dateText[0] === '' ? null : dateText[0]) : undefined,
  };
}

/** The query string (without "?") for these settings: only what differs from the defaults. */
export function writeLink(values: FieldValues, backend: AppBackendChoice | null, columns: LinkColumns | null): string {
  const params = new URLSearchParams();
  const defaults = defaultFieldValues(values.source as SourceKind, values.dataset);
  for (const { name } of FIELDS) {
    if (
      name === 'source' ? values.source !== 'generated' : fieldApplies(name, values) && values[name] !== defaults[name]
    )
      params.set(name, values[name]);
  }
  if (backend !== null) params.set('backend', backend);
  if (values.source === 'csv' && columns !== null) {
    for (const name of columns.inputs ?? []) params.append('inputs', name);
    for (const name of columns.outputs ?? []) params.append('outputs', name);
    for (const name of columns.knownAhead ?? []) params.append('known', name);
    if (columns.date !== undefined) params.set('date', columns.date ?? '');
  }
  return params.toString();
}

/** A notice names this many of a link's keys or columns at most, each cut short; the rest are counted. */
const SHOWN_NAMES = 5;
const SHOWN_LENGTH = 40;

/** "a, b, c, d, e and 19,995 more": a few names from a link, each at most SHOWN_LENGTH characters, as given or quoted. */
export function describeNames(names: readonly string[], quote = false): string {
  const shown = names.slice(0, SHOWN_NAMES).map((name) => {
    const short = name.length > SHOWN_LENGTH ? `${name.slice(0, SHOWN_LENGTH)}…` : name;
    return quote ? JSON.stringify(short) : short;
  });
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more.toLocaleString('en-US')} more` : shown.join(', ');
}
