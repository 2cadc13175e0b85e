import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';

import { Public } from '../auth/auth.decorator.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DatabaseProbe } from '../database/connections/database-probe.js';
import { ShutdownState } from './shutdown-state.js';

/** How long the database may take to answer readiness. */
const READY_TIMEOUT_MS = 2000;

export class HealthResponseDto {
  @ApiProperty({ example: 'ok' })
  status: 'ok';

  @ApiProperty({ example: 'accounting-service' })
  service: string;

  @ApiProperty({ example: '0.1.0' })
  version: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  timestamp: string;
}

@ApiTags('health')
@Public()
@SkipThrottle()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly probe: DatabaseProbe,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('health')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: HealthResponseDto })
  live(): HealthResponseDto {
    return this.liveness();
  }

  @Get('api/health')
  @ApiOperation({ operationId: 'getApiLiveness', summary: 'Liveness under /api (the same answer as /health)' })
  @ApiOkResponse({ type: HealthResponseDto })
  liveApi(): HealthResponseDto {
    return this.liveness();
  }

  private liveness(): HealthResponseDto {
    return {
      status: 'ok',
      service: 'accounting-service',
      version: this.config.version,
      timestamp: new Date().toISOString(),
    };
  }

  @Get('api/health/ready')
  @HealthCheck()
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: 200 when the database answers, else 503',
    description:
      'The database is asked on a connection of its own, so a request pool that is all in use does not make ' +
      'every instance unready at once. Also 503 from the moment the service is asked to stop (SIGTERM), while ' +
      'it still serves requests.',
  })
  ready(): Promise<HealthCheckResult> {
    if (this.shutdown.draining) throw new ServiceUnavailableException('Shutting down');
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(() => this.probe.ping(READY_TIMEOUT_MS))
          .withTimeout(READY_TIMEOUT_MS),
    ]);
  }
}
