// The house of modules (docs/ARCHITECTURE.md): every import in src/ goes to its own folder or to a
// lower layer, and no files import each other in a circle. Reads every import there is (static,
// type-only, re-exports, dynamic import() and worker entries) and names the file and the import that
// breaks the rule.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

/** Lowest first; a folder may import its own files and any lower layer's, never a sibling's or a higher one's. */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['model'],
  ['data'],
  ['settings', 'forecast'],
  ['backends'],
  ['backends/cpu', 'backends/webgpu'],
  ['train'],
  ['bench', 'export'],
  ['lib'],
  ['cli', 'app'],
];

const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));

/** src/-relative paths (posix) of the TypeScript files under src/, with their text. */
function sourceFiles(): Map<string, string> {
  const src = join(repoRoot, 'src');
  const files = new Map<string, string>();
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(src, path).split('\\').join('/'), readFileSync(path, 'utf8'));
  }
  return files;
}

/** Every relative specifier a file names: import/export … from, import '…', import('…'), new URL('…', import.meta.url). */
const SPECIFIER =
  /(?:import|export)\s[^'"`;]*?from\s*['"](\.[^'"]+)['"]|import\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g;

interface ImportEdge {
  from: string;
  to: string;
  /** As written in `from`. */
  specifier: string;
}

/** The imports among `files` (src/-relative paths); specifiers that leave src/ (shaders, packages) are not edges. */
function importEdges(files: ReadonlyMap<string, string>): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const [from, text] of files) {
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? match[4];
      const target = posix.normalize(posix.join(posix.dirname(from), specifier));
      const to = [target, target.replace(/\.js$/, '.ts'), `${target}.ts`].find((path) => files.has(path));
      if (to !== undefined) edges.push({ from, to, specifier });
    }
  }
  return edges;
}

/** The module folder of a src/-relative path: its first folder, or backends/<dir> for a backend's own. */
function folderOf(path: string): string {
  const parts = dirname(path).split('/');
  return parts[0] === 'backends' && parts.length > 1 ? `backends/${parts[1]}` : parts[0];
}

/** Each import that goes to a higher layer or a sibling folder, and each file in no layer. */
function layerProblems(files: ReadonlyMap<string, string>, edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const file of files.keys()) {
    if (!layerOf.has(folderOf(file))) problems.push(`src/${file} is in no layer (add ${folderOf(file)} to LAYERS)`);
  }
  for (const { from, to, specifier } of edges) {
    const [a, b] = [folderOf(from), folderOf(to)];
    const [la, lb] = [layerOf.get(a), layerOf.get(b)];
    if (a === b || la === undefined || lb === undefined || lb < la) continue;
    const why = lb === la ? `its sibling ${b}` : `${b} (layer ${lb}) from ${a} (layer ${la})`;
    problems.push(`src/${from} imports '${specifier}': upward to ${why}`);
  }
  return problems;
}

/** Each import circle among the files, as the chain of imports that closes it. */
function importCircles(edges: readonly ImportEdge[]): string[] {
  const out = new Map<string, ImportEdge[]>();
  for (const edge of edges) out.set(edge.from, [...(out.get(edge.from) ?? []), edge]);
  const circles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: ImportEdge[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    for (const edge of out.get(file) ?? []) {
      const seen = state.get(edge.to);
      if (seen === 'open') {
        const start = path.findIndex((step) => step.from === edge.to);
        const chain = [...path.slice(start === -1 ? path.length : start), edge];
        circles.push(chain.map((step) => `src/${step.from} imports '${step.specifier}'`).join(', '));
      } else if (seen === undefined) {
        path.push(edge);
        visit(edge.to);
        path.pop();
      }
    }
    state.set(file, 'done');
  };
  for (const file of [...out.keys()].sort()) if (!state.has(file)) visit(file);
  return circles;
}

describe('the house of modules', () => {
  const files = sourceFiles();
  const edges = importEdges(files);

  it('reads the imports of every file in src/', () => {
    expect(files.size).toBeGreaterThan(50);
    // Imports written over several lines, type-only ones and worker entries are all seen.
    expect(edges).toContainEqual({ from: 'app/runners.ts', to: 'app/cpuWorker.ts', specifier: './cpuWorker.ts' });
    expect(edges.some((edge) => edge.from === 'cli/train.ts' && edge.to === 'train/evaluate.ts')).toBe(true);
  });

  it('has no import from a lower layer to a higher one', () => {
    expect(layerProblems(files, edges)).toEqual([]);
  });

  it('has no import circle', () => {
    expect(importCircles(edges)).toEqual([]);
  });

  it('names the file and the import of an upward import, a sibling import and a circle', () => {
    const made = new Map([
      ['model/layout.ts', "import { Rng } from '../data/rng.js';"],
      ['data/rng.ts', "import type {\n  ColumnTable,\n} from './windows.js';"],
      ['data/windows.ts', "export { Rng } from './rng.js';"],
      ['backends/cpu/lstm.ts', "const k = await import('../webgpu/kernels.js');"],
      ['backends/webgpu/kernels.ts', ''],
      ['extra/thing.ts', ''],
    ]);
    const madeEdges = importEdges(made);
    expect(layerProblems(made, madeEdges)).toEqual([
      'src/extra/thing.ts is in no layer (add extra to LAYERS)',
      "src/model/layout.ts imports '../data/rng.js': upward to data (layer 2) from model (layer 1)",
      "src/backends/cpu/lstm.ts imports '../webgpu/kernels.js': upward to its sibling backends/webgpu",
    ]);
    expect(importCircles(madeEdges)).toEqual([
      "src/data/rng.ts imports './windows.js', src/data/windows.ts imports './rng.js'",
    ]);
  });
});
