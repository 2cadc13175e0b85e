/**
 * Turns for corrections on this instance: at most `size` run at once, the rest wait in order in
 * memory, holding no connection. A correction waits on its record's and its account's locks while
 * holding a pool connection, so 200 at once (a script fixing a day of records) would otherwise take
 * every connection of the pool, and the metering of every other account would queue behind them.
 * With a quarter of the pool for corrections, the rest stays for metering, balances and checks.
 */
export class CorrectionTurns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Runs `work` in its turn; the turn passes on whatever `work` does. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The turn goes straight to the next in line (running stays as it is), or is freed.
      if (next) next();
      else this.running--;
    }
  }
}

/** The corrections' share of a pool of `poolSize` connections: a quarter, at least one. */
export const correctionTurnsOf = (poolSize: number): number => Math.max(1, Math.floor(poolSize / 4));
