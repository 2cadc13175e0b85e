/**
 * How many CSV exports each user has streaming on this instance, and in all: an export holds a
 * connection of the exports' pool (EXPORT_POOL_SIZE) for as long as its client reads, so one user must
 * not be able to take them all, nor two users with two stalled exports each. A user's
 * first export takes any free connection; a further one (up to `perUser`) only while the exports in
 * all then hold at most half the pool: the other half stays for other users' first exports.
 */
export class ExportSlots {
  private readonly inUse = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perUser: number,
    readonly poolSize: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Exports of any user beyond their first may hold at most this many connections in all. */
  get sharedLimit(): number {
    return Math.floor(this.poolSize / 2);
  }

  /**
   * Takes one of the user's slots and returns what gives it back (once); null when the user holds
   * `perUser` already (`'user'`), or holds one and the pool's shared half is used up (`'pool'`).
   */
  take(userId: string): (() => void) | null {
    return this.tryTake(userId).giveBack;
  }

  tryTake(userId: string): { giveBack: (() => void) | null; refused?: 'user' | 'pool' } {
    const taken = this.inUse.get(userId) ?? 0;
    if (taken >= this.perUser) return { giveBack: null, refused: 'user' };
    if (taken > 0 && this.total + 1 > this.sharedLimit) return { giveBack: null, refused: 'pool' };
    this.inUse.set(userId, taken + 1);
    this.total++;
    let given = false;
    return {
      giveBack: () => {
        if (given) return;
        given = true;
        this.total--;
        const left = (this.inUse.get(userId) ?? 1) - 1;
        if (left > 0) this.inUse.set(userId, left);
        else this.inUse.delete(userId);
      },
    };
  }
}
