import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The UI is one static bundle: Electron loads it from disk (hence relative `base`) and
// `hearth serve` serves the same files over HTTP.
export default defineConfig({
  root: 'src-renderer',
  base: './',
  // runes: legacy component syntax is a compile error, not a style question.
  plugins: [svelte({ configFile: false, compilerOptions: { runes: true } })],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2023',
    // Inlined assets would become data: URLs the CSP would have to allow.
    assetsInlineLimit: 0,
  },
});
