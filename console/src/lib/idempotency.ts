import { useState } from 'react';

/**
 * The one way the console makes an Idempotency-Key: per dialog opening. `open(subject)` shows the
 * dialog for a subject (a row, or `true`) with a fresh key; every submit of that opening (a double
 * click, a retry after an error or a lost answer) sends the same key, so it changes nothing twice;
 * the next `open` makes a new one. Renders never make keys, nor do clicks.
 */
export function useCommandDialog<T = true>(onOpen?: (subject: T) => void) {
  const [state, setState] = useState<{ opened: boolean; subject: T | null; key: string }>({
    opened: false,
    subject: null,
    key: '',
  });
  return {
    opened: state.opened,
    /** What the dialog is about (the row it acts on); kept while it closes, so its text does not blank. */
    subject: state.subject,
    /** Opens the dialog with a fresh key; `onOpen` resets what the last opening left (form, error). */
    open: (subject: T) => {
      onOpen?.(subject);
      setState({ opened: true, subject, key: crypto.randomUUID() });
    },
    close: () => setState((current) => ({ ...current, opened: false })),
    /** The headers of this opening's submits. */
    headers: { 'Idempotency-Key': state.key },
  };
}

export type CommandDialog<T = true> = ReturnType<typeof useCommandDialog<T>>;
