// Reading and writing the files a user names on the command line; failures name the option.
//
// Reads are bounded: only regular files (a FIFO, /dev/zero or a directory is refused before a byte
// is read), at most MAX_FILE_BYTES, checked on the opened file and again while reading, so a file
// that grows meanwhile is still bounded. Writes are atomic: a temporary file in the same folder,
// flushed to disk, then renamed over the target, so a crash, a kill or a full disk leaves the old
// file whole.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseJsonBytes } from '../data/jsonFile.js';
import { checkTextBytes, decodeTextFile } from '../data/textFile.js';
import { loadModel } from '../lib/files.js';
import { InputError } from '../model/errors.js';
import { MAX_MODEL_FILE_BYTES, type Model } from '../train/modelFile.js';

/** Largest file read (model, batch, CSV): 256 MiB, as the app allows. */
export const MAX_FILE_BYTES = 256 * 2 ** 20;

const sizeOf = (bytes: number) =>
  bytes < 2 ** 20 ? `${bytes.toLocaleString('en')} bytes` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'unreadable';
}

function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

export function readTextFile(path: string, option: string, maxBytes = MAX_FILE_BYTES): string {
  return decodeTextFile(readFileBytes(path, option, maxBytes), option, `"${path}"`);
}

/** The bytes of a regular file of at most `maxBytes` (a weights file); failures name `option`. */
export function readFileBytes(path: string, option: string, maxBytes = MAX_FILE_BYTES): Uint8Array {
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO returns at once (to be refused) instead of waiting for a writer.
    fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new InputError(option, `cannot read "${path}" (${codeOf(err)})`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new InputError(option, `"${path}" is ${kindOf(stat)}; expected a regular file`);
    const tooLarge = (size: string) =>
      new InputError(option, `"${path}" is ${size}; at most ${sizeOf(maxBytes)} can be read`);
    if (stat.size > maxBytes) throw tooLarge(sizeOf(stat.size));
    // Up to maxBytes + 1 bytes whatever the size said: one byte more means the file grew past the limit.
    let buffer = Buffer.allocUnsafe(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) throw tooLarge(`more than ${sizeOf(maxBytes)} (it grew while being read)`);
        const bigger = Buffer.allocUnsafe(Math.min(2 * buffer.length, maxBytes + 1));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(option, `cannot read "${path}" (${codeOf(err)})`);
  } finally {
    fs.closeSync(fd);
  }
}

/** A JSON file (a batch, a TF.js model.json) of at most MAX_FILE_BYTES, parsed within src/data/jsonFile.ts's bounds. */
export function readJsonOption(path: string, option: string): unknown {
  const bytes = readFileBytes(path, option);
  checkTextBytes(bytes, option, `"${path}"`);
  return parseJsonBytes(bytes, `${option} ${path}`).value;
}

/** A model file (up to MAX_MODEL_FILE_BYTES, its JSON bounded: src/data/jsonFile.ts); failures name `option`. */
export function readModelOption(path: string, option: string): Model {
  const bytes = readFileBytes(path, option, MAX_MODEL_FILE_BYTES);
  checkTextBytes(bytes, option, `"${path}"`);
  return loadModel(bytes, `${option} ${path}`);
}

/**
 * Says on stderr, for an ensemble, that a command reads one member of it: `doing` gets "member 0 (seed
 * S)" and says what is done with it. Nothing for a model of one.
 */
export function noteMemberZero(model: Model, doing: (member: string) => string): void {
  const members = model.members;
  if (members === undefined || members.length < 2) return;
  console.error(
    `note: the model file is an ensemble of ${members.length} members; ${doing(`member 0 (seed ${members[0].seed})`)}`,
  );
}

/** The file system calls an atomic write makes (a test injects failures through them). */
export type WriteCalls = Pick<
  typeof fs,
  'openSync' | 'writeSync' | 'fsyncSync' | 'fchmodSync' | 'closeSync' | 'renameSync' | 'unlinkSync' | 'statSync'
>;

/** Characters encoded and written at a time, so a large model is not held twice in memory. */
const WRITE_CHUNK = 1 << 20;

/** Where a save goes: through a symbolic link to the file it names. */
function saveTarget(path: string): string {
  try {
    return fs.realpathSync(path);
  } catch {
    return path;
  }
}

/** The longest file name most file systems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;

/**
 * A temporary name beside `target`: `.NAME.PID.HEX.tmp`, NAME shortened (by whole characters) so the
 * whole fits NAME_MAX bytes whatever the target's name.
 */
function temporaryPath(target: string): string {
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let name = '';
  let bytes = 0;
  for (const ch of basename(target)) {
    const size = Buffer.byteLength(ch);
    if (1 + bytes + size + suffix.length > NAME_MAX) break;
    name += ch;
    bytes += size;
  }
  return join(dirname(target), `.${name}${suffix}`);
}

/**
 * Refuses a save path that cannot work, before any work is done: empty, a directory, not a regular
 * file, in a folder that is missing or not writable (tried by creating and removing a temporary file
 * there, which also catches read-only file systems).
 */
export function checkWritablePath(path: string, option: string): void {
  if (path === '') throw new InputError(option, 'expected a file name, got an empty one');
  if (path.endsWith('/')) throw new InputError(option, `"${path}" names a folder; expected a file name`);
  const target = saveTarget(path);
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(target);
  } catch {
    // No file there yet: fine.
  }
  if (existing?.isDirectory()) throw new InputError(option, `"${path}" is a directory; expected a file name`);
  if (existing !== undefined && !existing.isFile()) {
    throw new InputError(option, `"${path}" is ${kindOf(existing)}; a model is saved as a regular file`);
  }
  const folder = dirname(target);
  let folderStat: fs.Stats;
  try {
    folderStat = fs.statSync(folder);
  } catch (err) {
    throw new InputError(option, `the folder "${folder}" does not exist (${codeOf(err)})`);
  }
  if (!folderStat.isDirectory()) throw new InputError(option, `"${folder}" is not a folder`);
  const probe = temporaryPath(target);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.unlinkSync(probe);
  } catch (err) {
    throw new InputError(option, `cannot write in the folder "${folder}" (${codeOf(err)})`);
  }
}

/**
 * Writes `content` (text, as UTF-8, or bytes, or bytes a chunk at a time) to `path` atomically: into
 * a temporary file beside it, flushed, then renamed over it. A failure removes the temporary file and
 * leaves whatever was at `path` as it was.
 */
export function writeFileAtomic(
  path: string,
  content: string | Uint8Array | Iterable<Uint8Array>,
  option: string,
  calls: WriteCalls = fs,
): void {
  const target = saveTarget(path);
  const temporary = temporaryPath(target);
  let fd: number | undefined;
  let existed = false;
  try {
    let mode: number | undefined;
    try {
      mode = calls.statSync(target).mode & 0o7777;
      existed = true;
    } catch {
      // A new file: the usual permissions.
    }
    fd = calls.openSync(temporary, 'wx', 0o666);
    // The replaced file's permissions carry over (a private model stays private).
    if (mode !== undefined) calls.fchmodSync(fd, mode);
    for (const bytes of chunks(content)) {
      for (let written = 0; written < bytes.length; ) {
        written += calls.writeSync(fd, bytes, written, bytes.length - written);
      }
    }
    calls.fsyncSync(fd);
    calls.closeSync(fd);
    fd = undefined;
    calls.renameSync(temporary, target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        calls.closeSync(fd);
      } catch {
        // Already failing: the first error is the one to report.
      }
    }
    try {
      calls.unlinkSync(temporary);
    } catch {
      // Never created, or already gone.
    }
    const kept = existed ? '; the file there is unchanged' : '';
    throw new InputError(option, `cannot write "${path}" (${codeOf(err)})${kept}`);
  }
  syncFolder(dirname(target));
}

/** Bytes to write, a chunk at a time: text is encoded a chunk at a time, so a large model is not held twice. */
function* chunks(content: string | Uint8Array | Iterable<Uint8Array>): Generator<Uint8Array> {
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  if (typeof content !== 'string') {
    yield* content;
    return;
  }
  for (let start = 0; start < content.length; ) {
    let end = Math.min(start + WRITE_CHUNK, content.length);
    // Never split a surrogate pair between two chunks.
    if (end < content.length && (content.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--;
    yield Buffer.from(content.slice(start, end), 'utf8');
    start = end;
  }
}

/** Flushes the folder's entry for the renamed file, where the system allows it (best effort). */
function syncFolder(folder: string): void {
  try {
    const fd = fs.openSync(folder, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some systems cannot open or flush a folder; the rename is done either way.
  }
}
