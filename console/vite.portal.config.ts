import { resolve } from 'node:path';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The end users' portal: its own small bundle (React, TanStack Query and the console's generated
// client, no Mantine), built into console/dist-portal and served by the service at /portal
// (src/portal/portal-static.ts). embed.js is built next to it by vite.embed.config.ts.
export default defineConfig({
  root: resolve(import.meta.dirname, 'portal'),
  base: '/portal/',
  plugins: [react()],
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, 'dist-portal'),
    emptyOutDir: true,
    assetsInlineLimit: 0,
  },
  server: { proxy: { '/api': 'http://localhost:3001' } },
});
