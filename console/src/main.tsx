import '@mantine/core/styles.css';
import 'uplot/dist/uPlot.min.css';

import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { configureClient, getToken, subscribe } from './api/session';
import { AuthGate } from './auth';
import { retryRead, retryReadDelay } from './lib/retry';
import { router } from './router';

configureClient();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: retryRead,
      retryDelay: retryReadDelay,
      staleTime: 10_000,
      refetchOnWindowFocus: false,
    },
  },
});

// Signing out (by hand or on an expired token) forgets every answer: the next operator starts clean.
subscribe(() => {
  if (!getToken()) queryClient.clear();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider>
      <QueryClientProvider client={queryClient}>
        <AuthGate>
          <RouterProvider router={router} context={{ queryClient }} />
        </AuthGate>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
