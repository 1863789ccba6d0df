// Bounded JSON (src/data/jsonFile.ts): files JSON.parse would choke on (deep nesting, huge objects)
// are refused by the first pass with one line, before JSON.parse sees them; long strings under a
// chosen key come back as bytes.

import { describe, expect, it } from 'vitest';
import { JSON_LIMITS, parseJsonBytes, parseJsonText } from '../src/data/jsonFile.js';
import { inputErrorOf } from './helpers.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('bounded JSON', () => {
  it('reads ordinary JSON as JSON.parse does, a byte-order mark and all', () => {
    const text = '{"a": [1, 2.5e-3, "x\\"y"], "b": {"c": null, "d": true}, "__proto__": {"e": 1}}';
    expect(parseJsonText(text, 'f')).toEqual(JSON.parse(text));
    expect(parseJsonBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('[1]')]), 'f').value).toEqual([1]);
  });

  it('refuses 100 MB of `[` at the 65th, before parsing (JSON.parse would exhaust V8’s memory)', () => {
    const deep = new Uint8Array(100 * 2 ** 20).fill(0x5b);
    const started = performance.now();
    const err = inputErrorOf(() => parseJsonBytes(deep, '--model deep.json'));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(err.message).toBe(
      '--model deep.json: nests arrays and objects more than 64 levels deep (at byte 64); refused before parsing',
    );
    // 64 levels read.
    expect(parseJsonText(`${'['.repeat(64)}${']'.repeat(64)}`, 'f')).toBeDefined();
  });

  it('refuses an object of more keys than any file has, and more keys, containers or values than the limits', () => {
    const keys = (n: number) => `{${Array.from({ length: n }, (_, k) => `"k${k}":0`).join(',')}}`;
    expect(Object.keys(parseJsonText(keys(JSON_LIMITS.keysPerObject), 'f') as object)).toHaveLength(1000);
    expect(inputErrorOf(() => parseJsonText(keys(JSON_LIMITS.keysPerObject + 1), 'f')).message).toMatch(
      /^f: has an object of more than 1,000 keys \(at byte [\d,]+\); refused before parsing$/,
    );
    // Keys inside strings, and strings with escaped quotes, are not keys.
    expect(parseJsonText(JSON.stringify({ a: '{"x":1,"y":2}', b: ['\\"', '"'] }), 'f')).toEqual({
      a: '{"x":1,"y":2}',
      b: ['\\"', '"'],
    });
    const empties = new Uint8Array(2 * (JSON_LIMITS.containers + 2));
    for (let i = 0; i < empties.length; i += 2) {
      empties[i] = 0x5b;
      empties[i + 1] = 0x5d;
    }
    empties[0] = 0x5b;
    expect(inputErrorOf(() => parseJsonBytes(empties, 'f')).message).toMatch(
      /holds more than 4,194,304 arrays and objects/,
    );
  });

  it('says where JSON is malformed, naming the source', () => {
    expect(inputErrorOf(() => parseJsonText('{"a": [1, 2', 'model.json')).message).toMatch(
      /^model\.json: is not valid JSON \(/,
    );
    expect(inputErrorOf(() => parseJsonText('{"a": "unterminated', 'model.json')).message).toMatch(/is not valid JSON/);
  });

  it('cuts long strings under the chosen key out of the text, and hands them back as bytes', () => {
    const long = 'A'.repeat(5000);
    const document = parseJsonBytes(bytes(JSON.stringify({ w: { data: long }, note: long, data: 'short' })), 'f', [
      'data',
    ]);
    const value = document.value as { w: { data: string }; note: string; data: string };
    expect(value.w.data).not.toBe(long);
    expect(new TextDecoder().decode(document.blob(value.w.data))).toBe(long);
    // Under another key, or short: text as usual.
    expect(value.note).toBe(long);
    expect(value.data).toBe('short');
    expect(document.blob('short')).toBeUndefined();
  });
});
