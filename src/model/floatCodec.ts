// Float32 arrays as a version-3 model file stores them: the values' little-endian bytes in base64
// (RFC 4648's alphabet, with padding), exact to the bit and 5.33 bytes a value where JSON numbers
// take up to 16. Encoding yields ASCII bytes a chunk at a time, so a large model is never one string;
// decoding is strict (the alphabet only, padding only at the end, the length the count implies), so
// a damaged file is refused rather than read as other numbers.

import { InputError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d;
const ENCODE = Uint8Array.from(ALPHABET, (ch) => ch.charCodeAt(0));
/** Each byte's 6-bit value, -1 where it is not in the alphabet. */
const DECODE = (() => {
  const table = new Int16Array(256).fill(-1);
  ENCODE.forEach((code, value) => {
    table[code] = value;
  });
  return table;
})();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Input bytes a chunk of the encoding covers: a multiple of 3, so the chunks' base64 joins up. */
const CHUNK_BYTES = 3 * 2 ** 20;

/** Characters of the base64 of `byteCount` bytes. */
export function base64Length(byteCount: number): number {
  return 4 * Math.ceil(byteCount / 3);
}

/** The base64 of `values`' little-endian bytes, as ASCII bytes a chunk at a time. */
export function* encodeFloat32Base64(values: Float32Array): Generator<Uint8Array> {
  const bytes = littleEndianBytes(values);
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield encodeBase64(bytes.subarray(at, at + CHUNK_BYTES));
}

/** The base64 of `values` as one string (small arrays; a file is written with encodeFloat32Base64). */
export function float32Base64(values: Float32Array): string {
  const decoder = new TextDecoder('latin1');
  let text = '';
  for (const chunk of encodeFloat32Base64(values)) text += decoder.decode(chunk);
  return text;
}

function littleEndianBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return bytes;
}

function encodeBase64(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  const out = new Uint8Array(base64Length(n));
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const triple = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = ENCODE[triple >>> 18];
    out[o++] = ENCODE[(triple >>> 12) & 63];
    out[o++] = ENCODE[(triple >>> 6) & 63];
    out[o++] = ENCODE[triple & 63];
  }
  if (i < n) {
    const two = i + 1 < n;
    const triple = (bytes[i] << 16) | (two ? bytes[i + 1] << 8 : 0);
    out[o++] = ENCODE[triple >>> 18];
    out[o++] = ENCODE[(triple >>> 12) & 63];
    out[o++] = two ? ENCODE[(triple >>> 6) & 63] : PAD;
    out[o++] = PAD;
  }
  return out;
}

/**
 * `count` float32 values from the base64 of their little-endian bytes (ASCII bytes, or a string);
 * anything else is an InputError naming `field`. The values are not checked (the caller checks them
 * as it checks any number).
 */
export function decodeFloat32Base64(data: Uint8Array | string, count: number, field: string): Float32Array {
  const text = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const byteCount = 4 * count;
  const expected = base64Length(byteCount);
  if (text.length !== expected) {
    throw new InputError(
      field,
      `expected ${expected.toLocaleString('en')} base64 characters (${count.toLocaleString('en')} float32 values), got ${text.length.toLocaleString('en')}`,
    );
  }
  const out = new Uint8Array(byteCount);
  const bad = (at: number): never => {
    throw new InputError(
      field,
      `is not base64: position ${at.toLocaleString('en')} holds a character outside its alphabet`,
    );
  };
  const tail = byteCount % 3;
  // Whole groups of 4 characters → 3 bytes; the last group may be padded.
  const whole = tail === 0 ? expected : expected - 4;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = DECODE[text[i]];
    const b = DECODE[text[i + 1]];
    const c = DECODE[text[i + 2]];
    const d = DECODE[text[i + 3]];
    if ((a | b | c | d) < 0) bad(i + [a, b, c, d].findIndex((v) => v < 0));
    const triple = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = triple >>> 16;
    out[o++] = (triple >>> 8) & 255;
    out[o++] = triple & 255;
  }
  if (tail !== 0) {
    const i = whole;
    const a = DECODE[text[i]];
    const b = DECODE[text[i + 1]];
    const c = tail === 2 ? DECODE[text[i + 2]] : 0;
    if ((a | b | c) < 0) bad(i + [a, b, c].findIndex((v) => v < 0));
    if (text[i + 3] !== PAD || (tail === 1 && text[i + 2] !== PAD))
      bad(tail === 1 && text[i + 2] !== PAD ? i + 2 : i + 3);
    const triple = (a << 18) | (b << 12) | (c << 6);
    out[o++] = triple >>> 16;
    if (tail === 2) out[o++] = (triple >>> 8) & 255;
  }
  if (LITTLE_ENDIAN) return new Float32Array(out.buffer);
  const view = new DataView(out.buffer);
  return Float32Array.from({ length: count }, (_, k) => view.getFloat32(4 * k, true));
}
