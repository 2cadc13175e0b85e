import { resolve } from 'node:path';

import { defineConfig } from 'vite';

// /portal/embed.js: one self-contained ES module (no chunks to fetch across origins) defining
// <credits-balance> and <credits-usage-chart>. Written after the portal's build, into the same folder.
export default defineConfig({
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, 'dist-portal'),
    emptyOutDir: false,
    lib: {
      entry: resolve(import.meta.dirname, 'src/portal/embed.ts'),
      formats: ['es'],
      fileName: () => 'embed.js',
    },
  },
});
