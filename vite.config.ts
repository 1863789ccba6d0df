import { defineConfig, type Plugin } from 'vite';

/**
 * index.html carries a strict Content-Security-Policy. Vite's dev server injects CSS as <style>
 * elements and its error overlay writes HTML, so `npm run dev` relaxes the policy for exactly those;
 * `vite build` (and so `npm run preview`) keeps it as written.
 */
function relaxCspForDevServer(): Plugin {
  return {
    name: 'relax-csp-for-dev-server',
    apply: 'serve',
    transformIndexHtml: (html) =>
      html
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace("; require-trusted-types-for 'script'; trusted-types default", ''),
  };
}

/**
 * Headers on every response of `npm run dev` and `npm run preview` (public/_headers carries the same
 * for static hosts; a test keeps the two alike). No other site may frame the page (a meta CSP cannot
 * say frame-ancestors), no content is sniffed, no referrer leaves, and the page is cross-origin
 * isolated (COOP + COEP), which SharedArrayBuffer needs; everything the app loads is same-origin, so
 * require-corp blocks nothing.
 */
export const RESPONSE_HEADERS: Record<string, string> = {
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  build: { target: 'es2022', outDir: 'dist' },
  worker: { format: 'es' },
  plugins: [relaxCspForDevServer()],
  server: { headers: RESPONSE_HEADERS },
  preview: { headers: RESPONSE_HEADERS },
});
