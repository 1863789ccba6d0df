// `npm run build:lib`: the library (src/lib, docs/API.md) as ES modules in dist-lib/, two builds:
//   vite build -c vite.lib.config.ts               dist-lib/index.js, csv.js: for browsers and bundlers (first:
//                                                  it empties dist-lib/)
//   vite build -c vite.lib.config.ts --mode node   dist-lib/node/index.js, csv.js: Node (node: built-ins
//                                                  stay imports; Dawn's `webgpu` package is the user's own)
// Everything else (the shaders, the CPU kernels, papaparse in csv.js, the bundled series) is inside, so
// the package has no runtime dependencies. Type declarations: tsc -p tsconfig.lib.json.
import { defineConfig } from 'vite';

const CSV_READER = /papaparse|vega-datasets|[\\/]src[\\/]data[\\/](csv|bundled)\.ts/;

export default defineConfig(({ mode }) => {
  const node = mode === 'node';
  return {
    publicDir: false,
    ...(node ? { ssr: { noExternal: true, external: ['webgpu'], target: 'node' as const } } : {}),
    build: {
      outDir: node ? 'dist-lib/node' : 'dist-lib',
      emptyOutDir: true,
      target: node ? 'node20' : 'es2022',
      minify: !node,
      ...(node ? { ssr: true } : {}),
      lib: {
        entry: { index: node ? 'src/lib/node.ts' : 'src/lib/index.ts', csv: 'src/lib/csv.ts' },
        formats: ['es' as const],
      },
      rollupOptions: {
        external: node ? ['webgpu', /^node:/] : ['webgpu'],
        preserveEntrySignatures: 'allow-extension',
        // The CSV reader, its parser and the bundled series in a chunk of their own, which only the
        // csv entry imports: the main entry loads none of it.
        output: {
          codeSplitting: { groups: [{ name: 'csv-reader', test: CSV_READER, includeDependenciesRecursively: false }] },
        },
      },
    },
  };
});
