import { type Logger, StreamableFile } from '@nestjs/common';

import { type CsvExportStream, ExportStalledError } from './csv-export-stream.js';

/** A CSV export as the answer of a route (the user's records, an org's records). */
export function csvExportFile(stream: CsvExportStream, logger: Logger): StreamableFile {
  const file = new StreamableFile(stream, {
    type: 'text/csv; charset=utf-8',
    disposition: 'attachment; filename="usage-records.csv"',
  });
  // A failure mid-stream cuts the response off (Nest's handler); a client that stopped reading is
  // its own fault, not the service's.
  return file.setErrorLogger((err) =>
    err instanceof ExportStalledError
      ? logger.warn({ msg: 'CSV export ended: its client stopped reading', stallTimeoutMs: err.stallTimeoutMs })
      : logger.error({ msg: 'CSV export failed mid-stream', err }),
  );
}
