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

export default defineConfig({
  base: './',
  build: { target: 'es2022', outDir: 'dist' },
  worker: { format: 'es' },
  plugins: [relaxCspForDevServer()],
});
