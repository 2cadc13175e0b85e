import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * The drain that precedes a shutdown. On SIGTERM the service first only stops being ready: readiness
 * answers 503 so the load balancer takes it out of rotation, while every request is still served,
 * each answered with `Connection: close` so keep-alive clients reconnect (to another instance) for
 * their next request instead of sending it down a socket about to close. Only after
 * SHUTDOWN_GRACE_MS does the server stop accepting and finish what is in flight (see main.ts).
 */
@Injectable()
export class ShutdownState {
  private drainingSince: number | null = null;

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  beginDrain(): void {
    this.drainingSince ??= Date.now();
  }

  /** Express middleware: no more keep-alive once draining. */
  readonly middleware = (_req: Request, res: Response, next: NextFunction): void => {
    if (this.drainingSince !== null) res.setHeader('Connection', 'close');
    next();
  };
}
