// Bounded reading of untrusted JSON (model, batch and TF.js files), from bytes. JSON.parse alone has
// no limits: 100 MB of `[` exhausts V8's memory and an object of millions of keys parses for minutes.
// So a first pass over the bytes (linear, nothing allocated per value) checks the nesting depth, the
// keys of each object, and the numbers of keys, containers and values against JSON_LIMITS, and refuses
// at the first excess with one line; only then does JSON.parse see the text.
//
// Long strings under a key named in `blobKeys` (a version-3 model file's base64 `data`) are not
// decoded as text: they are cut out, left as bytes, and stand in the parsed value as a short marker
// that `blob()` resolves. So the text JSON.parse sees stays small, and a file larger than V8's longest
// string (about 512 MiB) is never made into one string.

import { InputError } from '../model/errors.js';
import { checkTextBytes } from './textFile.js';

/** What a JSON file may hold: far beyond any file the project writes, small enough to parse in a second or two. */
export const JSON_LIMITS = {
  /** A model file nests 5 levels (version 2's weights), a batch file 4. */
  depth: 64,
  /** The largest object the project writes is the settings table (about 60 keys). */
  keysPerObject: 1000,
  keys: 2 ** 22,
  /** Arrays and objects: a version-2 model's rows of weights, a batch's windows, an epoch's {epoch, loss}. */
  containers: 2 ** 22,
  /** Numbers, strings, true, false and null. */
  values: 2 ** 25,
  /** Bytes of JSON text besides the cut-out strings: what JSON.parse is given. */
  textBytes: 256 * 2 ** 20,
} as const;

/** Strings shorter than this stay in the text, whatever their key. */
const BLOB_MIN_BYTES = 4096;
/** Stands for a cut-out string in the parsed value (a NUL cannot be in a name the readers accept). */
const BLOB_MARKER = '\u0000blob:';

export interface JsonDocument {
  value: unknown;
  /** The bytes of a cut-out string (ASCII base64 as the file holds it), where `value` is its marker; else undefined. */
  blob(value: unknown): Uint8Array | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Parses JSON `bytes` (UTF-8, a byte-order mark allowed) within JSON_LIMITS; errors name `source`.
 * Strings of at least BLOB_MIN_BYTES under one of `blobKeys` are cut out (see the header).
 */
export function parseJsonBytes(bytes: Uint8Array, source: string, blobKeys: readonly string[] = []): JsonDocument {
  checkTextBytes(bytes, source);
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const blobs = scanJson(
    bytes,
    start,
    source,
    blobKeys.map((key) => new TextEncoder().encode(key)),
  );
  let textBytes = bytes.length - start;
  for (const [from, to] of blobs) textBytes -= to - from;
  if (textBytes > JSON_LIMITS.textBytes) {
    throw new InputError(
      source,
      `holds ${mib(textBytes)} of JSON besides its base64 data; at most ${mib(JSON_LIMITS.textBytes)} is read`,
    );
  }
  const decoder = new TextDecoder('utf-8');
  let text: string;
  if (blobs.length === 0) text = decoder.decode(bytes.subarray(start));
  else {
    const pieces: string[] = [];
    let at = start;
    blobs.forEach(([from, to], k) => {
      // The marker as JSON source: \u0000 escaped, so that the text stays valid JSON.
      pieces.push(decoder.decode(bytes.subarray(at, from)), `\\u0000blob:${k}`);
      at = to;
    });
    pieces.push(decoder.decode(bytes.subarray(at)));
    text = pieces.join('');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(source, `is not valid JSON (${(err as Error).message})`);
  }
  return {
    value,
    blob: (marker) => {
      if (typeof marker !== 'string' || !marker.startsWith(BLOB_MARKER)) return undefined;
      const range = blobs[Number(marker.slice(BLOB_MARKER.length))];
      return range === undefined ? undefined : bytes.subarray(range[0], range[1]);
    },
  };
}

/** Parses JSON text within JSON_LIMITS (no strings cut out); errors name `source`. */
export function parseJsonText(text: string, source: string): unknown {
  return parseJsonBytes(new TextEncoder().encode(text), source).value;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * One pass over the bytes: refuses what exceeds JSON_LIMITS, and returns the [from, to) byte ranges of
 * the strings to cut out (their contents, without the quotes). Grammar is left to JSON.parse: this
 * pass only has to find strings, containers and the starts of other values.
 */
function scanJson(bytes: Uint8Array, start: number, source: string, blobKeys: Uint8Array[]): [number, number][] {
  const limits = JSON_LIMITS;
  const refuse = (what: string, at: number): never => {
    throw new InputError(source, `${what} (at byte ${at.toLocaleString('en')}); refused before parsing`);
  };
  // Per open container: whether it is an object, and its keys so far.
  const isObject = new Uint8Array(limits.depth + 1);
  const keyCounts = new Uint32Array(limits.depth + 1);
  const blobs: [number, number][] = [];
  let depth = 0;
  let keys = 0;
  let containers = 0;
  let values = 0;
  let expectKey = false;
  let blobValue = false;
  let inToken = false;
  const n = bytes.length;
  for (let i = start; i < n; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = closingQuote(bytes, i + 1);
      // Unterminated: JSON.parse says so.
      if (end < 0) return blobs;
      if (expectKey) {
        if (++keyCounts[depth] > limits.keysPerObject)
          refuse(`has an object of more than ${count(limits.keysPerObject)} keys`, i);
        if (++keys > limits.keys) refuse(`has more than ${count(limits.keys)} keys`, i);
        blobValue = blobKeys.some((key) => sameBytes(bytes, i + 1, end, key));
        expectKey = false;
      } else {
        if (++values > limits.values) refuse(`holds more than ${count(limits.values)} values`, i);
        if (blobValue && end - i - 1 >= BLOB_MIN_BYTES) blobs.push([i + 1, end]);
        blobValue = false;
      }
      i = end;
      inToken = false;
      continue;
    }
    switch (c) {
      case 0x7b: // {
      case 0x5b: // [
        if (depth === limits.depth) refuse(`nests arrays and objects more than ${limits.depth} levels deep`, i);
        if (++containers > limits.containers)
          refuse(`holds more than ${count(limits.containers)} arrays and objects`, i);
        depth++;
        isObject[depth] = c === 0x7b ? 1 : 0;
        keyCounts[depth] = 0;
        expectKey = c === 0x7b;
        blobValue = false;
        inToken = false;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        if (depth > 0) depth--;
        expectKey = false;
        inToken = false;
        break;
      case 0x2c: // ,
        expectKey = isObject[depth] === 1;
        inToken = false;
        break;
      case 0x3a: // :
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        inToken = false;
        break;
      default:
        // A number, true, false or null (or a stray byte JSON.parse will refuse).
        if (!inToken) {
          if (++values > limits.values) refuse(`holds more than ${count(limits.values)} values`, i);
          inToken = true;
          blobValue = false;
        }
    }
  }
  return blobs;
}

/** The index of the quote that closes a string whose contents begin at `from` (-1: none). */
function closingQuote(bytes: Uint8Array, from: number): number {
  let end = from;
  for (;;) {
    end = bytes.indexOf(QUOTE, end);
    if (end < 0) return end;
    let slashes = 0;
    while (bytes[end - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return end;
    end++;
  }
}

function sameBytes(bytes: Uint8Array, from: number, to: number, key: Uint8Array): boolean {
  if (to - from !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (bytes[from + k] !== key[k]) return false;
  return true;
}

function count(n: number): string {
  return n.toLocaleString('en');
}
