// The bytes of a user's text file (model, batch, CSV) as a string: UTF-8, with a byte-order mark
// stripped. UTF-16 (by its byte-order mark, or by the NUL byte beside every ASCII character) and
// other files with NUL bytes are refused by name rather than read as mojibake.

import { InputError } from '../model/errors.js';

/** Bytes looked at for NUL bytes: enough to tell UTF-16 text from UTF-8. */
const SAMPLE_BYTES = 4096;

/**
 * Decodes `bytes` as UTF-8. Errors name `field` (an option, a file name) and begin with `subject`
 * when given (the file's quoted path, "the file").
 */
export function decodeTextFile(bytes: Uint8Array, field: string, subject?: string): string {
  checkTextBytes(bytes, field, subject);
  // The default decoder strips a UTF-8 byte-order mark and replaces malformed bytes with U+FFFD.
  return new TextDecoder('utf-8').decode(bytes);
}

/** Refuses bytes that are UTF-16 or hold NUL bytes (what decodeTextFile refuses), without decoding them. */
export function checkTextBytes(bytes: Uint8Array, field: string, subject?: string): void {
  const what = subject === undefined ? '' : `${subject} `;
  const utf16 = new InputError(field, `${what}is UTF-16 text; save it as UTF-8`);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) throw utf16;
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  if (sample.includes(0)) {
    // ASCII in UTF-16 puts a NUL on one side of every character: little-endian after, big-endian before.
    const nuls = [0, 0];
    for (let i = 0; i < sample.length; i++) if (sample[i] === 0) nuls[i % 2]++;
    const half = sample.length / 2;
    const alternating = Math.max(...nuls) > 0.3 * half && Math.min(...nuls) < 0.05 * half;
    if (alternating) throw utf16;
    throw new InputError(field, `${what}is not a text file (it holds NUL bytes); expected UTF-8 text`);
  }
}
