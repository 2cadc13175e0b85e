import { Module } from '@nestjs/common';

import { AuditModule } from '../audit/audit.module.js';
import { ExportRunsView } from './export-runs.view.js';
import { ExportsController } from './exports.controller.js';
import { ExportsJob } from './exports.job.js';
import { ExportsRepository } from './exports.repository.js';
import { ExportsService } from './exports.service.js';

/** Parquet exports of the ledger and its neighbours to EXPORT_DIR (docs/exports.md). */
@Module({
  imports: [AuditModule],
  controllers: [ExportsController],
  providers: [ExportsRepository, ExportsService, ExportRunsView, ExportsJob],
  exports: [ExportsService],
})
export class ExportsModule {}
