import { ApiProperty } from '@nestjs/swagger';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { EXPORT_RUN_STATUSES, EXPORT_TRIGGERS } from '../entities/export-run.entity.js';
import { EXPORT_DATASET_NAMES } from '../export-datasets.js';

export class ListExportRunsQueryDto extends PageQueryDto {}

export class ExportDatasetCountDto {
  @ApiProperty({ enum: EXPORT_DATASET_NAMES, example: 'usage_records' })
  dataset: string;

  @ApiInteger({ example: 1200, description: 'Rows this run wrote for the dataset' })
  rows: number;

  @ApiInteger({ example: 2, description: 'Parquet files it wrote (one a UTC day of the rows)' })
  files: number;
}

export class ExportRunResponseDto {
  @ApiProperty({ format: 'uuid', example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a61' })
  id: string;

  @ApiProperty({ enum: EXPORT_RUN_STATUSES, example: 'completed' })
  status: string;

  @ApiProperty({
    enum: EXPORT_TRIGGERS,
    example: 'manual',
    description: '`schedule` or `manual` (POST /api/exports/run)',
  })
  trigger: string;

  @ApiProperty({ type: String, nullable: true, example: 'admin-1', description: 'The admin who asked for it' })
  createdBy: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T09:00:00.000Z' })
  startedAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-11-25T09:00:04.000Z' })
  finishedAt: string | null;

  @ApiProperty({
    type: [ExportDatasetCountDto],
    description: 'What the run wrote, by dataset (only datasets with new rows)',
  })
  datasets: ExportDatasetCountDto[];

  @ApiProperty({ type: String, nullable: true, example: null, description: 'Why a failed run stopped' })
  lastError: string | null;
}

export class ExportRunListResponseDto extends PageResponseDto(ExportRunResponseDto) {}
