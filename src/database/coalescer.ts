/**
 * Requests that arrive together sent as ONE statement (docs/money.md "Records that arrive together"):
 * items submitted under one key queue while that key has `maxInFlight` statements running, and go
 * out together, up to `maxBatch` a statement, as soon as one returns. An item that finds the key
 * idle goes out at the end of the event loop's turn, with whatever else arrived in it: no timer, so
 * a lone request waits for nothing, and a busy one shares the statement's fixed cost (its round trip,
 * parsing, the commit and its WAL flush) with the others.
 *
 * `run` answers each item in order: its result, or an Error for that item alone. When the statement
 * fails as a whole with an error the server answered (`retryAlone`: it rolled back, nothing was
 * written), each item is sent again alone, so one item's fault never fails another's; any other
 * failure (a connection lost mid-statement: the outcome unknown) fails every item with it, and is
 * never sent again.
 *
 * Not DataLoader: it sends every event-loop turn's keys at once, with no bound on the statements in
 * flight, so under load each statement would carry one or two requests.
 */
export interface CoalescerOptions {
  maxBatch: number;
  maxInFlight: number;
  /** Whether an error of a whole statement left nothing written, so its items may go again alone. */
  retryAlone: (error: unknown) => boolean;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

interface Lane<I, O> {
  queue: Waiting<I, O>[];
  inFlight: number;
  scheduled: boolean;
}

export class Coalescer<I, O> {
  private readonly lanes = new Map<string, Lane<I, O>>();
  private unanswered = 0;

  constructor(
    private readonly run: (key: string, items: I[]) => Promise<(O | Error)[]>,
    private readonly options: CoalescerOptions,
  ) {}

  /** How many submitted items wait for their answer, queued or in a statement under way. */
  get pending(): number {
    return this.unanswered;
  }

  /** `item` sent with the others of `key` that arrive with it; its own result or error. */
  submit(key: string, item: I): Promise<O> {
    this.unanswered += 1;
    return new Promise<O>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { queue: [], inFlight: 0, scheduled: false };
        this.lanes.set(key, lane);
      }
      // Counted down where the item is answered: no second promise per item on the record's path.
      lane.queue.push({
        item,
        resolve: (value) => {
          this.unanswered -= 1;
          resolve(value);
        },
        reject: (error) => {
          this.unanswered -= 1;
          reject(error);
        },
      });
      this.schedule(key, lane);
    });
  }

  private schedule(key: string, lane: Lane<I, O>): void {
    if (lane.scheduled || lane.inFlight >= this.options.maxInFlight || lane.queue.length === 0) return;
    lane.scheduled = true;
    setImmediate(() => {
      lane.scheduled = false;
      this.dispatch(key, lane);
    });
  }

  private dispatch(key: string, lane: Lane<I, O>): void {
    while (lane.inFlight < this.options.maxInFlight && lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.options.maxBatch);
      lane.inFlight += 1;
      void this.execute(key, batch).finally(() => {
        lane.inFlight -= 1;
        if (lane.inFlight === 0 && lane.queue.length === 0) this.lanes.delete(key);
        else this.schedule(key, lane);
      });
    }
  }

  private async execute(key: string, batch: Waiting<I, O>[]): Promise<void> {
    let results: (O | Error)[];
    try {
      results = await this.run(
        key,
        batch.map((w) => w.item),
      );
      if (results.length !== batch.length)
        throw new Error(`coalesced statement answered ${results.length} of ${batch.length}`);
    } catch (error) {
      if (batch.length > 1 && this.options.retryAlone(error)) {
        await Promise.all(batch.map((w) => this.execute(key, [w])));
        return;
      }
      for (const w of batch) w.reject(error);
      return;
    }
    results.forEach((result, i) => (result instanceof Error ? batch[i].reject(result) : batch[i].resolve(result)));
  }
}
