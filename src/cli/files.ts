// Reading the files a user names on the command line; failures name the option.

import { readFileSync } from 'node:fs';
import { InputError } from '../model/errors.js';
import { type Model, parseJson, readModelFile } from '../model/modelFile.js';

export function readTextFile(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(option, `cannot read "${path}" (${code})`);
  }
}

export function readModelOption(path: string, option: string): Model {
  return readModelFile(parseJson(readTextFile(path, option), `${option} ${path}`));
}
