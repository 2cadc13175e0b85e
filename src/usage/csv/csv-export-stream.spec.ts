import { once } from 'node:events';

import { describe, expect, it } from 'vitest';

import { CsvExportStream, type CsvSource, type ExportEnd, ExportStalledError } from './csv-export-stream.js';

/** A source of `pieces` texts of `size` characters, recording what happened to it. */
function source(pieces: number, size = 100_000, fail?: Error) {
  const seen = { read: 0, closed: 0 };
  const src: CsvSource = {
    next: async () => {
      if (fail) throw fail;
      return seen.read < pieces ? 'x'.repeat(size) + String(seen.read++).padStart(4, '0') : null;
    },
    close: async () => {
      seen.closed++;
    },
  };
  return { src, seen };
}

function exportOf(src: CsvSource, stallTimeoutMs: number) {
  const ends: ExportEnd[] = [];
  const stream = new CsvExportStream(src, stallTimeoutMs, (how) => ends.push(how));
  const closed = once(stream, 'close').catch(() => undefined);
  stream.on('error', () => undefined);
  return { stream, ends, closed };
}

describe('CsvExportStream', () => {
  it('streams every piece in order, then closes its source once', async () => {
    const { src, seen } = source(5, 10);
    const { stream, ends, closed } = exportOf(src, 1000);
    const chunks: string[] = [];
    for await (const chunk of stream) chunks.push(String(chunk));
    await closed;
    expect(chunks.join('').match(/\d{4}/g)).toEqual(['0000', '0001', '0002', '0003', '0004']);
    expect(seen).toEqual({ read: 5, closed: 1 });
    expect(ends).toEqual(['completed']);
  });

  it('ends with ExportStalledError when its reader takes nothing for the stall timeout', async () => {
    const { src, seen } = source(1000);
    const { stream, ends, closed } = exportOf(src, 50);
    let error: unknown;
    stream.on('error', (e) => (error = e));
    stream.once('data', () => stream.pause()); // one piece, then nothing
    await closed; // bounded by the 50 ms stall timeout
    expect(error).toBeInstanceOf(ExportStalledError);
    expect(ends).toEqual(['stalled']);
    expect(seen.closed).toBe(1);
    // It read ahead only as far as its buffer (64 KB) allows, not the whole source.
    expect(seen.read).toBeLessThanOrEqual(3);
  });

  it('keeps going for a slow reader that takes something within each stall timeout', async () => {
    const { src, seen } = source(10);
    const { stream, ends, closed } = exportOf(src, 100);
    stream.on('data', () => {
      stream.pause();
      setTimeout(() => stream.resume(), 20);
    });
    await closed;
    expect(ends).toEqual(['completed']);
    expect(seen).toEqual({ read: 10, closed: 1 });
  });

  it('closes its source when destroyed before anything was read (the client left at once)', async () => {
    const { src, seen } = source(3);
    const { stream, ends, closed } = exportOf(src, 1000);
    stream.destroy();
    await closed;
    expect(seen).toEqual({ read: 0, closed: 1 });
    expect(ends).toEqual(['closed']);
  });

  it('fails with the error of its source, and still closes it', async () => {
    const broken = new Error('connection lost');
    const { src, seen } = source(3, 10, broken);
    const { stream, ends, closed } = exportOf(src, 1000);
    let error: unknown;
    stream.on('error', (e) => (error = e));
    stream.resume();
    await closed;
    expect(error).toBe(broken);
    expect(ends).toEqual(['failed']);
    expect(seen.closed).toBe(1);
  });
});
