// `npm run build:cli`: the command-line tool as one file, dist-cli/webgpu-lstm.mjs, that plain `node`
// runs with no node_modules (the shaders and bundled series inlined, as `?raw` gives them). The one
// thing not inside is Dawn's native `dawn.node`, found at run time (scripts/cli-dawn.mjs says where).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const WEBGPU_ID = '\0webgpu-with-dawn-found-at-run-time';
const WEBGPU_INDEX = fileURLToPath(new URL('node_modules/webgpu/index.js', import.meta.url));
const DAWN_FINDER = fileURLToPath(new URL('scripts/cli-dawn.mjs', import.meta.url));
const DAWN_PATH_LINE = /^const dawnNodePath = .*$/m;

/** The webgpu package's index.js (its buffer-unmapping fix included), loading dawn.node from where cli-dawn.mjs finds it. */
function webgpuWithDawnFoundAtRunTime(): Plugin {
  return {
    name: 'webgpu-with-dawn-found-at-run-time',
    enforce: 'pre',
    resolveId: (id) => (id === 'webgpu' ? WEBGPU_ID : null),
    load(id) {
      if (id !== WEBGPU_ID) return null;
      const index = readFileSync(WEBGPU_INDEX, 'utf8');
      if (!DAWN_PATH_LINE.test(index)) throw new Error(`${WEBGPU_INDEX}: no 'const dawnNodePath = …' line to replace`);
      return `import { dawnNodePath as findDawn } from ${JSON.stringify(DAWN_FINDER)};\n${index.replace(DAWN_PATH_LINE, 'const dawnNodePath = findDawn();')}`;
    },
  };
}

export default defineConfig({
  plugins: [webgpuWithDawnFoundAtRunTime()],
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: 'src/cli/main.ts',
    outDir: 'dist-cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    copyPublicDir: false,
    rollupOptions: { output: { entryFileNames: 'webgpu-lstm.mjs', codeSplitting: false, format: 'es' } },
  },
});
