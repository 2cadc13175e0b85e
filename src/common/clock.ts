import { Global, Module } from '@nestjs/common';

/** Milliseconds since the epoch, like `Date.now()`; injected where time drives behaviour (cache TTLs). */
export interface Clock {
  now(): number;
}

/** Injection token of the app's `Clock`. */
export const CLOCK = Symbol('CLOCK');

/** The wall clock. A class, so every app gets an instance of its own (tests set one app's time). */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

@Global()
@Module({
  providers: [{ provide: CLOCK, useClass: SystemClock }],
  exports: [CLOCK],
})
export class ClockModule {}
