import { client } from './generated/client.gen';

/**
 * The signed-in token lives in sessionStorage (this tab only). The first 401 of a signed-in session
 * clears it once and says why; later 401s of requests already in flight find no token and do nothing,
 * so an expired token leads to exactly one sign-in page (no loop).
 */
const KEY = 'accounting-console.token';
type Listener = () => void;
const listeners = new Set<Listener>();
let notice: string | null = null;

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token);
  notice = null;
  emit();
}

export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  notice = reason;
  emit();
}

/** Why the last session ended (shown once on the sign-in page). */
export function signOutNotice(): string | null {
  return notice;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(): void {
  for (const listener of listeners) listener();
}

/** Same origin: every request goes to this service's /api, with the tab's bearer token. */
export function configureClient(): void {
  client.setConfig({
    baseUrl: '',
    auth: (auth) => (auth.scheme === 'bearer' ? (getToken() ?? undefined) : undefined),
  });
  client.interceptors.response.use((response, request) => {
    const sentToken = request.headers.get('Authorization')?.replace(/^Bearer /, '');
    if (response.status === 401 && sentToken && sentToken === getToken()) {
      signOut('Your session has expired or the token was refused. Sign in again.');
    }
    return response;
  });
}
