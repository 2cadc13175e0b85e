/**
 * How many CSV exports each user has streaming on this instance, capped: an export holds a database
 * connection for as long as its client reads, so one user must not be able to take them all.
 */
export class ExportSlots {
  private readonly inUse = new Map<string, number>();

  constructor(readonly perUser: number) {}

  /** Takes one of the user's slots and returns what gives it back (once); null when all are in use. */
  take(userId: string): (() => void) | null {
    const taken = this.inUse.get(userId) ?? 0;
    if (taken >= this.perUser) return null;
    this.inUse.set(userId, taken + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.inUse.get(userId) ?? 1) - 1;
      if (left > 0) this.inUse.set(userId, left);
      else this.inUse.delete(userId);
    };
  }
}
