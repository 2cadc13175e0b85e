import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { markArrival } from '../../metrics/http-metrics.middleware.js';

/** The turn a correction request took on arrival: open until the correction it carries joins it. */
interface HeldTurn {
  open: boolean;
  /** The correction that joined it, settled (its caller has its outcome). */
  work?: Promise<void>;
}

/**
 * Turns for corrections on this instance, a queue that yields to the other requests: at most `size`
 * corrections run at once while nothing else is in flight, ONE while anything else is (metering,
 * balances, checks); the rest wait in order in memory, holding no connection. A correction waits on
 * its record's and its account's locks while holding a pool connection, and its statements take the
 * same two cores as metering's: 200 at once (a script fixing a day of records) would otherwise take a
 * quarter of the pool and the cores' share that goes with it, and the metering of every other account
 * would wait behind them. `inFlight()` counts the requests in the app (Express): the requests that
 * `intake` handed on are not counted as others.
 *
 * A correction request takes its turn as it arrives (`intake`, ahead of the app: before its body is
 * parsed, its caller authenticated, its body validated, and before the app's first middlewares):
 * taken in at once, 200 requests cost the instance's one thread the better part of a millisecond
 * each, all in the same moment, and metering in flight waited for all of them. Taken in in their
 * turns, that work is spread over the corrections' run, one request at a time beside the other
 * requests; what is left at arrival is the connection and the request's head.
 */
export class CorrectionTurns {
  private running = 0;
  /** Requests `intake` handed on to the app whose answer is not sent yet (counted by `inFlight()`). */
  private handedOn = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly held = new AsyncLocalStorage<HeldTurn>();

  constructor(
    readonly size: number,
    private readonly inFlight: () => number = () => 0,
  ) {}

  /** Corrections running or waiting here (requests taken in by `intake` included). */
  get queued(): number {
    return this.running + this.waiting.length;
  }

  /** How many may run now: `size` alone, one beside other requests. */
  private get width(): number {
    return this.inFlight() > this.handedOn ? 1 : this.size;
  }

  /**
   * Runs `work` in its turn; the turn passes on whatever `work` does. Called while serving a request
   * that `intake` took in, `work` runs in that request's turn (once: a second call takes its own).
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.held.getStore();
    if (turn?.open) {
      turn.open = false;
      const done = work();
      turn.work = done.then(
        () => undefined,
        () => undefined,
      );
      return done;
    }
    if (this.running >= this.width) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      this.pass();
    }
  }

  /**
   * For the corrections route, ahead of the app (`aheadOf`): a POST waits for its turn before
   * anything reads it, and holds it until its answer is sent and its correction (if it got that far)
   * is done; `next` hands it on to the app. One whose client went away while it waited is not read;
   * one whose body is still coming a turn of the event loop after its turn came goes on without
   * holding it (a slow client holds up no other correction: its correction takes a turn of its own
   * in `run`).
   */
  readonly intake = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.method !== 'POST') return next();
    let gone = false;
    const closed = new Promise<void>((resolve) =>
      res.once('close', () => {
        gone = true;
        resolve();
      }),
    );
    const handOn = (): void => {
      this.handedOn++;
      res.once('close', () => this.handedOn--);
      next();
    };
    void this.run(async () => {
      // A body that came with the headers is parsed after them, in the same turn of the event loop.
      if (!req.complete) await new Promise((resolve) => setImmediate(resolve));
      if (gone) return;
      if (!req.complete) return handOn();
      const turn: HeldTurn = { open: true };
      this.held.run(turn, handOn);
      await closed;
      turn.open = false;
      await turn.work;
    });
  };

  /**
   * The server's request listener: a request for `path` goes through `intake` before `app` (the
   * Express application, so its middlewares run only once the request's turn came), every other
   * straight to `app`.
   */
  aheadOf(app: (req: IncomingMessage, res: ServerResponse) => void, path: RegExp) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      if (req.method === 'POST' && path.test(req.url ?? '')) {
        markArrival(req);
        this.intake(req, res, () => app(req, res));
      } else app(req, res);
    };
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
