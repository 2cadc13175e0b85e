/**
 * Turns for corrections on this instance, a queue that yields to the other requests: at most `size`
 * corrections run at once while nothing else is in flight, ONE while anything else is (metering,
 * balances, checks); the rest wait in order in memory, holding no connection. A correction waits on
 * its record's and its account's locks while holding a pool connection, and its statements take the
 * same two cores as metering's: 200 at once (a script fixing a day of records) would otherwise take a
 * quarter of the pool and the cores' share that goes with it, and the metering of every other account
 * would wait behind them. `others()` counts the requests in flight on the instance that are not
 * corrections waiting or running here.
 */
export class CorrectionTurns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly size: number,
    private readonly inFlight: () => number = () => 0,
  ) {}

  /** Corrections running or waiting here. */
  get queued(): number {
    return this.running + this.waiting.length;
  }

  /** How many may run now: `size` alone, one beside other requests. */
  private get width(): number {
    return this.inFlight() > this.queued ? 1 : this.size;
  }

  /** Runs `work` in its turn; the turn passes on whatever `work` does. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.width) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      this.pass();
    }
  }

  /**
   * A turn ends: it goes straight to the next in line (running stays as it is) or is freed, and when
   * the other requests are gone the width comes back to `size` at once.
   */
  private pass(): void {
    this.running--;
    while (this.waiting.length > 0 && this.running < this.width) {
      this.running++;
      this.waiting.shift()!();
    }
  }
}

/** The corrections' share of a pool of `poolSize` connections: a quarter, at least one. */
export const correctionTurnsOf = (poolSize: number): number => Math.max(1, Math.floor(poolSize / 4));
