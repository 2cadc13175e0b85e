/**
 * Waits, bounded, until `done` holds: for what another connection, instance or process makes true (a
 * lock waited on, a notification's arrival, a reconnect), never for time to pass. Asks every
 * `everyMs`; fails naming `what` after `withinMs`.
 */
export async function until(
  what: string,
  done: () => boolean | Promise<boolean>,
  withinMs = 10_000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
