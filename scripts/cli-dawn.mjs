// Where the CLI bundle (dist-cli/webgpu-lstm.mjs) finds Dawn's native module, `dawn.node`: the path in
// WEBGPU_DAWN, else `dawn.node` beside the bundle, else the webgpu package's own place beside it
// (node_modules/webgpu/dist/<platform>-<arch>/dawn.node). vite.cli.config.ts puts this in the bundle.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function dawnNodePath() {
  const fromEnv = process.env.WEBGPU_DAWN;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`WEBGPU_DAWN: no file at ${fromEnv}`);
    return fromEnv;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  const places = [
    join(here, 'dawn.node'),
    join(here, 'node_modules', 'webgpu', 'dist', `${process.platform}-${arch}`, 'dawn.node'),
  ];
  const found = places.find((place) => existsSync(place));
  if (found === undefined) throw new Error(`no dawn.node: set WEBGPU_DAWN, or put it at ${places.join(' or ')}`);
  return found;
}
