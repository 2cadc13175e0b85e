import { defineConfig } from '@hey-api/openapi-ts';

// The console's API layer: the same document as clients/typescript, plus TanStack Query options,
// infinite-query options for the cursor lists and mutation options (drift-checked by client:check).
export default defineConfig({
  input: '../openapi.json',
  output: 'src/api/generated',
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk', '@tanstack/react-query'],
});
