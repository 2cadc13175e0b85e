import { Controller, Get, HttpCode, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiHeavyReadsBusy } from '../database/heavy-read-refusals.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { ExportRunListResponseDto, ExportRunResponseDto, ListExportRunsQueryDto } from './dto/exports.dto.js';
import { ExportRunsView } from './export-runs.view.js';
import { ExportsService } from './exports.service.js';

@ApiTags('exports')
@Controller('api/exports')
export class ExportsController {
  constructor(
    private readonly exports: ExportsService,
    private readonly view: ExportRunsView,
  ) {}

  @IdempotentPost('run')
  @HttpCode(202)
  @Auth('admin')
  @ApiOperation({
    operationId: 'runExport',
    summary: 'Export the rows added since the last export to Parquet now (admin)',
    description:
      'Starts a run of the Parquet exports (`EXPORT_DIR`): each dataset’s rows added since its last export, as ' +
      '`<EXPORT_DIR>/<dataset>/date=YYYY-MM-DD/<exportId>.parquet`. Answers at once with the run; ' +
      '`GET /api/exports` shows it finish. Every row lands in exactly one file over all runs.',
  })
  @ApiAcceptedResponse({ type: ExportRunResponseDto, description: 'The run, started' })
  @ApiHeavyReadsBusy()
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'A run is already under way (on this or another instance), or EXPORT_DIR is not set',
    examples: {
      running: domainErrorExample(
        'EXPORT_RUNNING',
        'An export is running; its run is listed by GET /api/exports',
        'A run is under way',
      ),
      off: domainErrorExample('EXPORTS_NOT_CONFIGURED', 'Exports are off: EXPORT_DIR is not set', 'No EXPORT_DIR'),
    },
  })
  async run(@CurrentUser() user: AuthUser): Promise<ExportRunResponseDto> {
    const { run } = await this.exports.start('manual', user.userId);
    return this.view.one(run, []);
  }

  @Get()
  @StaffRead(
    'supervisor',
    ExportRunListResponseDto,
    'listExportRuns',
    'The Parquet export runs, newest first (supervisor)',
  )
  list(@Query() query: ListExportRunsQueryDto): Promise<ExportRunListResponseDto> {
    return this.view.list(query);
  }
}
