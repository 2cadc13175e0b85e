import { Body, Controller, Get, Logger, Module, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { Auth } from '../../src/common/auth/auth.decorator.js';

export class EchoDto {
  @IsString()
  @MaxLength(2000)
  name: string;

  @IsInt()
  @Min(0)
  @Max(100)
  count: number;
}

/**
 * Routes that only test apps mount (via `startTestApp(env, { modules: [TestOnlyModule] })`): a DTO
 * to validate, a handler that logs, and handlers that fail in the ways the error filter must hide.
 */
@Controller('test-only')
export class TestOnlyController {
  private readonly logger = new Logger('TestOnly');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Post('echo')
  @Auth()
  echo(@Body() body: EchoDto): EchoDto & { countType: string } {
    this.logger.log(`echo ${body.name}`);
    return { ...body, countType: typeof body.count };
  }

  @Post('boom')
  @Auth()
  boom(): never {
    this.logger.warn('about to fail');
    throw new Error('SELECT password FROM secrets WHERE id = 1 -- internal detail');
  }

  @Get('bad-sql')
  @Auth()
  async badSql(): Promise<unknown> {
    return this.dataSource.query('SELECT secret_column FROM no_such_table_for_tests');
  }
}

@Module({ controllers: [TestOnlyController] })
export class TestOnlyModule {}
