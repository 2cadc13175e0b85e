import { client } from '../api/generated/client.gen';

/**
 * The portal's token: taken from the URL's fragment (`#token=…`, which no server ever sees), kept in
 * this tab's sessionStorage, and removed from the address bar at once so it stays out of history and
 * bookmarks. A 401 means the session ended or expired: the page then shows one sentence, no data.
 * A link's token never silently replaces the one this tab holds: a page of someone else's could send
 * the person here with a session of the sender's, and what they did next (a key made, a purchase)
 * would land in the sender's account. A different token waits (`offeredToken()`) until the person
 * says which session to keep.
 */
const KEY = 'accounting-portal.token';
type Listener = () => void;
const listeners = new Set<Listener>();
let ended = false;
let offered: string | null = null;

function notify(): void {
  for (const listener of listeners) listener();
}

export function takeTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  history.replaceState(null, '', window.location.pathname + window.location.search);
  const token = decodeURIComponent(match[1]);
  const held = sessionStorage.getItem(KEY);
  if (held === null || held === token) {
    sessionStorage.setItem(KEY, token);
    ended = false;
    offered = null;
  } else {
    offered = token;
  }
  notify();
}

/** A link's token that differs from the one held, waiting for the person's answer; else null. */
export function offeredToken(): string | null {
  return offered;
}

/** The person chose the link's session: it replaces the held one, and the page starts again with it. */
export function acceptOfferedToken(): void {
  if (offered === null) return;
  sessionStorage.setItem(KEY, offered);
  offered = null;
  window.location.reload();
}

/** The person kept the session they had: the link's token is forgotten. */
export function refuseOfferedToken(): void {
  offered = null;
  notify();
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
  notify();
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
