// A fingerprint of the values a model was trained on: the row count and a 64-bit hash of the used
// columns' names and float64 values, in order. A model file keeps it, so that loading the model
// on other data (another file, an edited one) is noticed. Not a cryptographic hash: it tells data
// apart, it does not protect it. Line endings, a byte-order mark or number formatting do not change it.

import type { ColumnTable } from './windows.js';

export interface DataFingerprint {
  rows: number;
  /** 16 hexadecimal digits. */
  hash: string;
}

/** Two 32-bit multiply-xorshift lanes (cyrb53's mixing) over every 32-bit word, seeded apart. */
export function fingerprintTable(table: ColumnTable): DataFingerprint {
  let h1 = 0xdeadbeef ^ table.rows;
  let h2 = 0x41c6ce57 ^ table.columns.length;
  const mix = (word: number) => {
    h1 = Math.imul(h1 ^ word, 2654435761);
    h2 = Math.imul(h2 ^ word, 1597334677);
  };
  for (const name of table.columns) {
    for (let i = 0; i < name.length; i++) mix(name.charCodeAt(i));
    mix(0xffff_ffff);
  }
  for (const column of table.values) {
    const words = new Uint32Array(column.buffer, column.byteOffset, column.length * 2);
    for (let i = 0; i < words.length; i++) mix(words[i]);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hex = (h: number) => (h >>> 0).toString(16).padStart(8, '0');
  return { rows: table.rows, hash: `${hex(h2)}${hex(h1)}` };
}

export function sameFingerprint(a: DataFingerprint, b: DataFingerprint): boolean {
  return a.rows === b.rows && a.hash === b.hash;
}
