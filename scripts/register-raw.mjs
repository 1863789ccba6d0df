// `node --import tsx --import ./scripts/register-raw.mjs`: see raw-loader.mjs.
import { register } from 'node:module';

register('./raw-loader.mjs', import.meta.url);
