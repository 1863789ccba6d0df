// The CLI's file reading and writing (src/cli/files.ts): only regular files, bounded in size, UTF-8
// with or without a byte-order mark, UTF-16 refused by name; saves that are atomic (a failure at any
// point leaves the old file whole and no temporary file behind) and refused up front where they
// cannot work.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWritablePath, MAX_FILE_BYTES, readTextFile, type WriteCalls, writeFileAtomic } from '../src/cli/files.js';
import { inputErrorOf, temporaryFolder } from './helpers.js';

const tmp = temporaryFolder('webgpu-lstm-files-');

const messageOf = (run: () => unknown) => inputErrorOf(run).message;

describe('reading a file named on the command line', () => {
  it('refuses devices, a FIFO and a directory before reading a byte', () => {
    expect(messageOf(() => readTextFile('/dev/zero', '--model'))).toBe(
      '--model: "/dev/zero" is a character device; expected a regular file',
    );
    expect(messageOf(() => readTextFile('/dev/urandom', '--batch'))).toBe(
      '--batch: "/dev/urandom" is a character device; expected a regular file',
    );
    expect(messageOf(() => readTextFile(tmp, '--data'))).toBe(
      `--data: "${tmp}" is a directory; expected a regular file`,
    );
    // Opening a FIFO for reading waits for a writer unless it is opened non-blocking: were that
    // lost, this test would hang (and the file's timeout would fail it) instead of passing.
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(messageOf(() => readTextFile(fifo, '--data'))).toBe(
      `--data: "${fifo}" is a FIFO (named pipe); expected a regular file`,
    );
  }, 10_000);

  it('refuses a file over the limit by its size, before reading it (a sparse 300 MiB file)', () => {
    const sparse = join(tmp, 'sparse.json');
    fs.closeSync(fs.openSync(sparse, 'w'));
    fs.truncateSync(sparse, 300 * 2 ** 20);
    expect(MAX_FILE_BYTES).toBe(256 * 2 ** 20);
    expect(messageOf(() => readTextFile(sparse, '--model'))).toBe(
      `--model: "${sparse}" is 300.0 MiB; at most 256.0 MiB can be read`,
    );
    // The bound holds while reading too: /proc files say size 0 and then give more.
    expect(fs.statSync('/proc/self/status').size).toBe(0);
    expect(messageOf(() => readTextFile('/proc/self/status', '--data', 100))).toBe(
      '--data: "/proc/self/status" is more than 100 bytes (it grew while being read); at most 100 bytes can be read',
    );
  });

  it('reads UTF-8 with a byte-order mark as plain text, and refuses UTF-16 by name', () => {
    const text = '{"a": 1}';
    const bom = join(tmp, 'bom.json');
    fs.writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    expect(readTextFile(bom, '--model')).toBe(text);
    for (const [name, bytes] of [
      ['utf16le-bom.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
      ['utf16be-bom.json', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])],
      ['utf16le.json', Buffer.from(text, 'utf16le')],
    ] as const) {
      const path = join(tmp, name);
      fs.writeFileSync(path, bytes);
      expect(messageOf(() => readTextFile(path, '--model'))).toBe(
        `--model: "${path}" is UTF-16 text; save it as UTF-8`,
      );
    }
  });
});

/** The names in `folder` that look like a save's temporary files. */
const temporaries = (folder: string) => fs.readdirSync(folder).filter((name) => name.endsWith('.tmp'));

describe('saving atomically', () => {
  it('writes the text, keeps the replaced file’s permissions, and leaves no temporary file', () => {
    const folder = fs.mkdtempSync(join(tmp, 'save-'));
    const path = join(folder, 'model.json');
    writeFileAtomic(path, 'first\n', '--save');
    expect(fs.readFileSync(path, 'utf8')).toBe('first\n');
    fs.chmodSync(path, 0o600);
    // More than one chunk, with a surrogate pair across a chunk boundary.
    const long = `${'a'.repeat((1 << 20) - 1)}😀${'b'.repeat(3 << 20)}`;
    writeFileAtomic(path, long, '--save');
    expect(fs.readFileSync(path, 'utf8')).toBe(long);
    expect(fs.statSync(path).mode & 0o777).toBe(0o600);
    expect(temporaries(folder)).toEqual([]);
  });

  it('writes through a symbolic link to the file it names', () => {
    const folder = fs.mkdtempSync(join(tmp, 'link-'));
    fs.writeFileSync(join(folder, 'real.json'), 'old');
    fs.symlinkSync('real.json', join(folder, 'link.json'));
    writeFileAtomic(join(folder, 'link.json'), 'new', '--save');
    expect(fs.lstatSync(join(folder, 'link.json')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(join(folder, 'real.json'), 'utf8')).toBe('new');
  });

  // Each step of the write fails in turn (as a full disk, a lost device or a failed rename would).
  const failing = ['openSync', 'writeSync', 'fsyncSync', 'closeSync', 'renameSync'] as const;
  for (const step of failing) {
    it(`leaves the old file intact and no temporary file when ${step} fails`, () => {
      const folder = fs.mkdtempSync(join(tmp, `fail-${step}-`));
      const path = join(folder, 'model.json');
      fs.writeFileSync(path, 'the old model');
      let writes = 0;
      const calls: WriteCalls = {
        ...fs,
        [step]: (...args: unknown[]) => {
          // writeSync fails on its second chunk: part of the new text is already on disk.
          if (step === 'writeSync' && writes++ === 0) return (fs.writeSync as (...a: unknown[]) => number)(...args);
          if (step === 'closeSync') {
            (fs.closeSync as (...a: unknown[]) => void)(...args);
          }
          throw Object.assign(new Error(`${step} failed`), { code: 'ENOSPC' });
        },
      };
      const text = 'x'.repeat(3 << 20);
      expect(messageOf(() => writeFileAtomic(path, text, '--save', calls))).toBe(
        `--save: cannot write "${path}" (ENOSPC); the file there is unchanged`,
      );
      expect(fs.readFileSync(path, 'utf8')).toBe('the old model');
      expect(temporaries(folder)).toEqual([]);
    });
  }
});

describe('checking a save path before training', () => {
  it('accepts a new or existing file in a writable folder, leaving nothing behind', () => {
    const folder = fs.mkdtempSync(join(tmp, 'check-'));
    checkWritablePath(join(folder, 'new.json'), '--save');
    fs.writeFileSync(join(folder, 'old.json'), 'x');
    checkWritablePath(join(folder, 'old.json'), '--save');
    expect(fs.readdirSync(folder)).toEqual(['old.json']);
  });

  it('refuses an empty path, a directory, a device, a missing or unwritable folder', () => {
    expect(messageOf(() => checkWritablePath('', '--save'))).toBe('--save: expected a file name, got an empty one');
    expect(messageOf(() => checkWritablePath(tmp, '--save'))).toBe(
      `--save: "${tmp}" is a directory; expected a file name`,
    );
    expect(messageOf(() => checkWritablePath(`${tmp}/`, '--save'))).toBe(
      `--save: "${tmp}/" names a folder; expected a file name`,
    );
    expect(messageOf(() => checkWritablePath('/dev/null', '--save'))).toBe(
      '--save: "/dev/null" is a character device; a model is saved as a regular file',
    );
    expect(messageOf(() => checkWritablePath(join(tmp, 'missing', 'model.json'), '--save'))).toBe(
      `--save: the folder "${join(tmp, 'missing')}" does not exist (ENOENT)`,
    );
    // sysfs refuses new files even to root, where permission bits would not.
    expect(messageOf(() => checkWritablePath('/sys/model.json', '--save'))).toMatch(
      /^--save: cannot write in the folder "\/sys" \(E[A-Z]+\)$/,
    );
  });
});
