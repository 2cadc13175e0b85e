import { Readable } from 'node:stream';

/** How an export ended: every row sent, its client gone, its client stopped reading, or an error. */
export type ExportEnd = 'completed' | 'closed' | 'stalled' | 'failed';

export class ExportStalledError extends Error {
  constructor(readonly stallTimeoutMs: number) {
    super(`The client took nothing of the CSV export for ${stallTimeoutMs} ms: export ended`);
    this.name = 'ExportStalledError';
  }
}

/** Where an export's text comes from: a database cursor, read a batch at a time. */
export interface CsvSource {
  /** The next piece of the file, or null once everything was read (and the snapshot ended). */
  next(): Promise<string | null>;
  /** Gives everything back (transaction, connection); called once, however the export ends. */
  close(): Promise<void>;
}

/**
 * The body of a CSV export. It reads its source only as fast as the client takes the text, and
 * gives up on a client that has taken nothing for `stallTimeoutMs` while text was waiting for it
 * (the socket did not drain): the stream is destroyed with ExportStalledError, the response is cut
 * off, and the cursor, its transaction and its connection are given back at once, not when
 * PostgreSQL ends the idle transaction. Its source is closed whenever it is destroyed, before or
 * after reading began, so no way of ending an export keeps a connection.
 */
export class CsvExportStream extends Readable {
  private stall: NodeJS.Timeout | null = null;
  private reading = false;

  constructor(
    private readonly source: CsvSource,
    private readonly stallTimeoutMs: number,
    private readonly onEnd: (how: ExportEnd) => void,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    this.clearStall();
    if (this.reading) return;
    this.reading = true;
    this.source.next().then(
      (text) => {
        this.reading = false;
        if (this.destroyed) return;
        if (text === null) this.push(null);
        // The buffer is full: the client has stallTimeoutMs to take some of it.
        else if (!this.push(text)) this.armStall();
      },
      (error: Error) => {
        this.reading = false;
        this.destroy(error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearStall();
    const how: ExportEnd =
      error instanceof ExportStalledError ? 'stalled' : error ? 'failed' : this.readableEnded ? 'completed' : 'closed';
    this.source
      .close()
      .catch(() => undefined)
      .finally(() => {
        this.onEnd(how);
        callback(error);
      });
  }

  private armStall(): void {
    this.clearStall();
    this.stall = setTimeout(() => this.destroy(new ExportStalledError(this.stallTimeoutMs)), this.stallTimeoutMs);
    this.stall.unref();
  }

  private clearStall(): void {
    if (this.stall) clearTimeout(this.stall);
    this.stall = null;
  }
}
