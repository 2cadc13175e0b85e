import './portal.css';

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { retryRead, retryReadDelay } from '../lib/retry';
import { App } from './app';
import { configureClient, takeTokenFromUrl } from './session';

takeTokenFromUrl();
// A link followed in this tab while it is open changes only the fragment: no new page load.
window.addEventListener('hashchange', takeTokenFromUrl);
configureClient();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 401 ends the page (session.ts).
      retry: retryRead,
      retryDelay: retryReadDelay,
      staleTime: 10_000,
      refetchOnWindowFocus: false,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
