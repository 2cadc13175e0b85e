import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into console/dist and served by the service at /admin (src/admin/console-static.ts).
// Everything is bundled: no CDN, no web fonts, no inline scripts (the CSP allows scripts from self).
export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: { '/api': 'http://localhost:3001' } },
});
