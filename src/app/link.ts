// The whole setup as a link: the settings live in the page's query string (?window=20&hidden=64,32),
// one key per form field (the same names as the form and the CLI), only where a value differs from
// its default, plus the backend and a CSV's column choices (the file itself cannot travel in a link).
// Reading a link is strict: each value goes through the form's own parser, and a value that is
// refused is reported for its field (the page shows it there) while the field keeps its default;
// keys the app does not know are reported, never guessed at.

import { describeValue } from '../model/errors.js';
import {
  type BackendChoice,
  defaultFieldValues,
  FIELDS,
  type FieldName,
  type FieldValues,
  fieldApplies,
  fieldSpec,
  parseBackendChoice,
  parseSettings,
  SOURCE_KINDS,
  type SourceKind,
} from './settings.js';

/** A CSV's columns as a link carries them (null / undefined: not in the link, the page chooses). */
export interface LinkColumns {
  inputs: string[] | null;
  outputs: string[] | null;
  /** The date column; null for none, undefined to let the parser find one. */
  date: string | null | undefined;
}

export type LinkKey = FieldName | 'backend' | 'inputs' | 'outputs' | 'date';

export interface LinkSetup {
  /** Every field's value: the link's where it was accepted, the default otherwise. */
  values: FieldValues;
  /** The backend the link asks for, or null. */
  backend: BackendChoice | null;
  columns: LinkColumns;
  /** Why a key's value was refused (the field keeps its default). */
  errors: Partial<Record<LinkKey, string>>;
  /** Keys this app does not know, ignored. */
  unknown: string[];
}

const FIELD_NAMES = new Set<string>(FIELDS.map((f) => f.name));
const LIST_KEYS = new Set(['inputs', 'outputs']);
const OTHER_KEYS = new Set(['backend', 'date', ...LIST_KEYS]);

function refused(raw: string, reason: string, fallback: string): string {
  const used = fallback === '' ? 'the field is left empty' : `the default, ${fallback}, is used`;
  return `the link's value ${describeValue(raw)} was refused (${reason}); ${used}`;
}

/** Reads a query string (with or without its "?"). */
export function readLink(query: string): LinkSetup {
  const params = new URLSearchParams(query);
  const errors: Partial<Record<LinkKey, string>> = {};
  const unknown: string[] = [];
  const given = new Map<FieldName, string>();
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    if (!FIELD_NAMES.has(key) && !OTHER_KEYS.has(key)) {
      unknown.push(key);
      continue;
    }
    if (all.length > 1 && !LIST_KEYS.has(key)) {
      errors[key as LinkKey] = `the link gives ${key} ${all.length} times; its default is used`;
      continue;
    }
    if (FIELD_NAMES.has(key)) given.set(key as FieldName, all[0]);
  }

  // The source first: the other defaults depend on it.
  let source: SourceKind = 'generated';
  const sourceText = given.get('source');
  if (sourceText !== undefined) {
    if ((SOURCE_KINDS as readonly string[]).includes(sourceText)) source = sourceText as SourceKind;
    else {
      errors.source = refused(sourceText, `expected one of ${SOURCE_KINDS.join(', ')}`, source);
      given.delete('source');
    }
  }
  const defaults = defaultFieldValues(source);
  const values: FieldValues = { ...defaults };
  for (const [name, text] of given) {
    const options = fieldSpec(name).options;
    if (options !== undefined && !options.some((o) => o.value === text)) {
      errors[name] = refused(text, `expected one of ${options.map((o) => o.value).join(', ')}`, defaults[name]);
      given.delete(name);
    } else {
      values[name] = text;
    }
  }
  // Each refused value falls back to its default, which can settle a field that depended on it
  // (points on the window, say), so parse again until only fields the link did not set are at fault.
  for (let round = 0; round < FIELDS.length; round++) {
    const result = parseSettings(values);
    if (result.ok) break;
    const atFault = [...given.keys()].filter((name) => result.errors[name] !== undefined);
    if (atFault.length === 0) {
      // Fields at their defaults, refused only next to values the link set: shown as the form would.
      for (const [name, message] of Object.entries(result.errors) as [FieldName, string][]) errors[name] = message;
      break;
    }
    for (const name of atFault) {
      errors[name] = refused(given.get(name)!, result.errors[name]!, defaults[name]);
      values[name] = defaults[name];
      given.delete(name);
    }
  }

  let backend: BackendChoice | null = null;
  const backendText = params.getAll('backend');
  if (backendText.length === 1) {
    try {
      backend = parseBackendChoice(backendText[0]);
    } catch {
      errors.backend = refused(backendText[0], 'expected webgpu, cpu or both', 'the page’s choice');
    }
  }
  const list = (key: 'inputs' | 'outputs'): string[] | null => {
    const names = params.getAll(key);
    if (names.length === 0) return null;
    if (names.some((name) => name === '')) {
      errors[key] = `the link names an empty ${key} column; the page's choice is used`;
      return null;
    }
    return names;
  };
  const dateText = params.getAll('date');
  const columns: LinkColumns = {
    inputs: list('inputs'),
    outputs: list('outputs'),
    date: dateText.length === 1 ? (dateText[0] === '' ? null : dateText[0]) : undefined,
  };
  return { values, backend, columns, errors, unknown };
}

/** The query string (without "?") for these settings: only what differs from the defaults. */
export function writeLink(values: FieldValues, backend: BackendChoice | null, columns: LinkColumns | null): string {
  const params = new URLSearchParams();
  const defaults = defaultFieldValues(values.source as SourceKind);
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
    if (columns.date !== undefined) params.set('date', columns.date ?? '');
  }
  return params.toString();
}
