import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { buildAppConfig, type ConfigValidationError } from '../config/app-config.js';
import { paced } from './part-writer.child.js';

/** `rows` CSV lines of `width` bytes each, as one chunk. */
const lines = (rows: number, width = 10) => Buffer.from(`${'x'.repeat(width - 1)}\n`.repeat(rows));

describe('the part writer’s pace (EXPORT_ROWS_PER_SECOND)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Writes each chunk in turn, and answers when (fake ms after the start) each came out. */
  async function passTimes(rowsPerSecond: number, chunks: Buffer[]): Promise<number[]> {
    const stream = paced(rowsPerSecond);
    const out: number[] = [];
    const started = performance.now();
    stream.on('data', () => out.push(performance.now() - started));
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
    await vi.runAllTimersAsync();
    return out;
  }

  it('passes no more lines a second than the pace: 1,000 lines at 500 a second take 2 s', async () => {
    const times = await passTimes(
      500,
      Array.from({ length: 10 }, () => lines(100)),
    );
    expect(times).toHaveLength(10);
    // Chunk k (100 lines each) goes on once (k + 1) × 100 lines are due: at 200 ms, 400 ms, … 2,000 ms.
    expect(times.map((t) => Math.round(t))).toEqual([200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000]);
  });

  it('counts lines, not chunks: a chunk of 1,000 lines waits as long as ten of 100', async () => {
    expect((await passTimes(500, [lines(1000)])).map(Math.round)).toEqual([2000]);
    expect((await passTimes(500, [Buffer.from('no line break yet')])).map(Math.round)).toEqual([0]);
  });

  it('is 25,000 rows a second by default, 0 for no limit, and refuses what is not a count', () => {
    expect(buildAppConfig({}).parquetExports.rowsPerSecond).toBe(25_000);
    expect(buildAppConfig({ EXPORT_ROWS_PER_SECOND: '0' }).parquetExports.rowsPerSecond).toBe(0);
    for (const bad of ['-1', 'fast', '100000001']) {
      let problems: string[] = [];
      try {
        buildAppConfig({ EXPORT_ROWS_PER_SECOND: bad });
      } catch (error) {
        problems = (error as ConfigValidationError).problems;
      }
      expect(problems).toEqual([expect.stringMatching(/^EXPORT_ROWS_PER_SECOND must be an integer between/)]);
    }
  });
});
