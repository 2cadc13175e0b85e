export function Loading() {
  return (
    <p role="status" className="muted">
      Loading…
    </p>
  );
}

export function Failed({ what }: { what: string }) {
  return <p role="alert">Could not load {what}; try again in a moment.</p>;
}

/** An API error's message, as the service phrased it. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : 'The service refused the request.';
}
