import { client } from '../api/generated/client.gen';

/**
 * The portal's token: taken from the URL's fragment (`#token=…`, which no server ever sees), kept in
 * this tab's sessionStorage, and removed from the address bar at once so it stays out of history and
 * bookmarks. A 401 means the session ended or expired: the page then shows one sentence, no data.
 */
const KEY = 'accounting-portal.token';
type Listener = () => void;
const listeners = new Set<Listener>();
let ended = false;

export function takeTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  ended = false;
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function hasEnded(): boolean {
  return ended || getToken() === null;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function end(): void {
  if (ended) return;
  ended = true;
  sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener();
}

/** Same origin: every request goes to this service's /api with the portal token. */
export function configureClient(): void {
  client.setConfig({
    baseUrl: '',
    auth: (auth) => (auth.scheme === 'bearer' ? (getToken() ?? undefined) : undefined),
  });
  client.interceptors.response.use((response) => {
    if (response.status === 401) end();
    return response;
  });
}
