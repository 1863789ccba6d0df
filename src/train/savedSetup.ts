// What a model file (version 2) keeps beyond the weights, so that loading it restores the whole
// setup: where the data came from (a generated series, a bundled one, a CSV by name) with a
// fingerprint of the values trained on, the transform and split as they were resolved, every setting
// of the settings table, and the training so far (the epoch of the weights, the errors up to it, the
// generator), so that training goes on where it stopped. Version 1 files have none of it and still load.

import type { DataFingerprint } from '../data/fingerprint.js';
import type { RngState } from '../data/rng.js';
import { TRANSFORMS, type Transform } from '../data/transform.js';
import { describeValue, InputError } from '../model/errors.js';
import { field, float32Number, isRecord } from '../model/validate.js';
import { SETTINGS, type SettingName, type SettingValues } from '../settings/training.js';

/** Where the data came from; the settings (series, points, dataset, symbol…) say the rest. */
export type DataOrigin =
  | { kind: 'generated' }
  | { kind: 'bundled' }
  /** `fileName` as the user gave it (a path on the command line, a file's name in the app). */
  | { kind: 'csv'; fileName: string; dateColumn: string | null };

/** The data settings of version 2, beside version 1's source, inputs, outputs and trainFraction. */
export interface SavedDataExtras {
  validationFraction: number;
  transform: Transform;
  /** The seasonal period in rows as resolved from the data (null: none). */
  season: number | null;
  origin: DataOrigin;
  fingerprint: DataFingerprint;
}

export interface SavedTraining {
  /** The epoch the weights are from (the best epoch's where it was kept). */
  epoch: number;
  /** The training error of epochs 1..epoch. */
  losses: number[];
  /** The validation errors up to `epoch`. */
  validationLosses: { epoch: number; loss: number }[];
  /** The generator after `epoch`: going on replays the minibatch orders that would have followed. */
  rng: RngState;
}

/** Longest name or path a file holds: PATH_MAX, so any path a system can open fits. */
const MAX_TEXT = 4096;
/** Epochs a file's history may hold: the most that can be trained (the epochs setting's bound). */
export const MAX_HISTORY = 1_000_000;

function text(value: unknown, path: string): string {
  // A NUL never belongs in a name or a path (and marks a cut-out string, src/data/jsonFile.ts).
  if (typeof value !== 'string' || value.length > MAX_TEXT || value.includes('\u0000')) {
    throw new InputError(path, `expected a text of at most ${MAX_TEXT} characters, got ${describeValue(value)}`);
  }
  return value;
}

function wholeNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(path, `expected a whole number from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

/** Version 2's extra data fields, each checked; absent ones are absent (a hand-written file may leave them out). */
export function readDataExtras(value: Record<string, unknown>): Partial<SavedDataExtras> {
  const extras: Partial<SavedDataExtras> = {};
  if (Object.hasOwn(value, 'validationFraction')) {
    extras.validationFraction = SETTINGS.validation.check(value.validationFraction, 'data.validationFraction');
  }
  if (Object.hasOwn(value, 'transform')) {
    const transform = value.transform;
    if (typeof transform !== 'string' || !(TRANSFORMS as readonly string[]).includes(transform)) {
      throw new InputError(
        'data.transform',
        `expected one of ${TRANSFORMS.join(', ')}, got ${describeValue(transform)}`,
      );
    }
    extras.transform = transform as Transform;
  }
  if (Object.hasOwn(value, 'season')) {
    extras.season = value.season === null ? null : wholeNumber(value.season, 'data.season', 2, 10_000);
  }
  if (Object.hasOwn(value, 'origin')) extras.origin = readOrigin(value.origin);
  if (Object.hasOwn(value, 'fingerprint')) extras.fingerprint = readFingerprint(value.fingerprint);
  return extras;
}

function readOrigin(value: unknown): DataOrigin {
  if (!isRecord(value)) throw new InputError('data.origin', `expected an object, got ${describeValue(value)}`);
  const kind = field(value, 'kind', 'data.origin');
  if (kind === 'generated' || kind === 'bundled') return { kind };
  if (kind !== 'csv') {
    throw new InputError('data.origin.kind', `expected generated, bundled or csv, got ${describeValue(kind)}`);
  }
  const date = field(value, 'dateColumn', 'data.origin');
  return {
    kind,
    fileName: text(field(value, 'fileName', 'data.origin'), 'data.origin.fileName'),
    dateColumn: date === null ? null : text(date, 'data.origin.dateColumn'),
  };
}

function readFingerprint(value: unknown): DataFingerprint {
  if (!isRecord(value)) throw new InputError('data.fingerprint', `expected an object, got ${describeValue(value)}`);
  const rows = wholeNumber(
    field(value, 'rows', 'data.fingerprint'),
    'data.fingerprint.rows',
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const hash = text(field(value, 'hash', 'data.fingerprint'), 'data.fingerprint.hash');
  if (!/^[0-9a-f]{16}$/.test(hash)) {
    throw new InputError('data.fingerprint.hash', `expected 16 hexadecimal digits, got ${describeValue(hash)}`);
  }
  return { rows, hash };
}

/** Every setting the file names, checked by the settings table (unknown names are ignored). */
export function readSavedSettings(value: unknown): Partial<SettingValues> {
  if (!isRecord(value)) throw new InputError('settings', `expected an object, got ${describeValue(value)}`);
  const settings: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    if (Object.hasOwn(value, name)) settings[name] = SETTINGS[name].check(value[name], `settings.${name}`);
  }
  return settings as Partial<SettingValues>;
}

export function readSavedTraining(value: unknown, path = 'training'): SavedTraining {
  if (!isRecord(value)) throw new InputError(path, `expected an object, got ${describeValue(value)}`);
  const epoch = wholeNumber(field(value, 'epoch', path), `${path}.epoch`, 0, MAX_HISTORY);
  const losses = field(value, 'losses', path);
  if (!Array.isArray(losses) || losses.length !== epoch) {
    throw new InputError(`${path}.losses`, `expected ${epoch} errors (one per epoch), got ${describeValue(losses)}`);
  }
  // Every number finite in float32, as the writer checks them: what loads can be saved again.
  for (const [i, loss] of losses.entries()) float32Number(loss, `${path}.losses[${i}]`);
  const validation = field(value, 'validationLosses', path);
  if (!Array.isArray(validation) || validation.length > epoch) {
    throw new InputError(
      `${path}.validationLosses`,
      `expected at most ${epoch} entries, got ${describeValue(validation)}`,
    );
  }
  const validationLosses = validation.map((entry, i) => {
    const at = `${path}.validationLosses[${i}]`;
    if (!isRecord(entry)) throw new InputError(at, `expected {epoch, loss}, got ${describeValue(entry)}`);
    const loss = float32Number(field(entry, 'loss', at), `${at}.loss`);
    return { epoch: wholeNumber(field(entry, 'epoch', at), `${at}.epoch`, 1, epoch), loss };
  });
  const rng = field(value, 'rng', path);
  if (!isRecord(rng)) throw new InputError(`${path}.rng`, `expected an object, got ${describeValue(rng)}`);
  const words = field(rng, 's', `${path}.rng`);
  if (!Array.isArray(words) || words.length !== 4) {
    throw new InputError(`${path}.rng.s`, `expected 4 whole numbers, got ${describeValue(words)}`);
  }
  const s = words.map((w, i) => wholeNumber(w, `${path}.rng.s[${i}]`, 0, 0xffffffff)) as RngState['s'];
  if (s.every((w) => w === 0)) throw new InputError(`${path}.rng.s`, 'expected a state that is not all zeros');
  const spare = Object.hasOwn(rng, 'spareNormal') ? rng.spareNormal : null;
  const spareNormal = spare === null ? null : float32Number(spare, `${path}.rng.spareNormal`);
  return { epoch, losses: losses as number[], validationLosses, rng: { s, spareNormal } };
}
