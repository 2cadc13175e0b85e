import { useState } from 'react';

/** A fresh Idempotency-Key per opened dialog: a double click or a retry sends the same key. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/** The key for the dialog currently open; `renew()` when the dialog opens again. */
export function useIdempotencyKey(): { key: string; renew: () => void; headers: { 'Idempotency-Key': string } } {
  const [key, setKey] = useState(newIdempotencyKey);
  return { key, renew: () => setKey(newIdempotencyKey()), headers: { 'Idempotency-Key': key } };
}
