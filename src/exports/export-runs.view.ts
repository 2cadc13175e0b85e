import { Injectable } from '@nestjs/common';

import { decodeTimeCursor, DEFAULT_LIMIT, encodeCursor } from '../common/http/pagination.js';
import type { ExportRunListResponseDto, ExportRunResponseDto, ListExportRunsQueryDto } from './dto/exports.dto.js';
import { type ExportPartRow, type ExportRunRow, ExportsRepository } from './exports.repository.js';

/** The runs as the API shows them: each with what it wrote, by dataset. */
@Injectable()
export class ExportRunsView {
  constructor(private readonly repo: ExportsRepository) {}

  async list(query: ListExportRunsQueryDto): Promise<ExportRunListResponseDto> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const cursor = decodeTimeCursor(query.cursor, 'uuid');
    const runs = await this.repo.listRuns(limit + 1, cursor ? { startedAt: new Date(cursor.t), id: cursor.id } : null);
    const page = runs.slice(0, limit);
    const parts = await this.repo.partsOf(page.map((r) => r.id));
    const last = page.at(-1);
    return {
      items: page.map((run) =>
        this.one(
          run,
          parts.filter((p) => p.run_id === run.id),
        ),
      ),
      nextCursor:
        runs.length > limit && last
          ? encodeCursor({ t: last.started_at.toISOString().replace('Z', '000Z'), id: last.id })
          : null,
    };
  }

  one(run: ExportRunRow, parts: ExportPartRow[]): ExportRunResponseDto {
    return {
      id: run.id,
      status: run.status,
      trigger: run.trigger,
      createdBy: run.created_by,
      startedAt: run.started_at.toISOString(),
      finishedAt: run.finished_at?.toISOString() ?? null,
      datasets: parts
        .filter((p) => p.rows !== '0')
        .map((p) => ({ dataset: p.dataset, rows: Number(p.rows), files: p.files })),
      lastError: run.last_error,
    };
  }
}
