import { Body, Controller, Get, Headers, HttpCode, Logger, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { DataSource } from 'typeorm';

import { Auth, CurrentUser } from '../../src/auth/auth.decorator.js';
import type { AuthUser } from '../../src/auth/roles.js';
import { Transactions } from '../../src/database/transactions.js';
import { IdempotentPost } from '../../src/idempotency/idempotent-post.decorator.js';

/** Ends the calling session's own backend: the connection is lost in the middle of its work. */
const KILL_OWN_BACKEND = 'SELECT pg_terminate_backend(pg_backend_pid())';

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

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
  ) {}

  @Get('lost-in-read')
  @Auth()
  async lostInRead(): Promise<unknown> {
    return this.dataSource.query(KILL_OWN_BACKEND);
  }

  @IdempotentPost('lost-in-statement')
  @Auth()
  async lostInStatement(): Promise<unknown> {
    return this.dataSource.query(KILL_OWN_BACKEND);
  }

  @IdempotentPost('lost-in-transaction')
  @Auth()
  async lostInTransaction(): Promise<unknown> {
    return this.tx.run((m) => m.query(KILL_OWN_BACKEND));
  }

  /**
   * Writes a marker row for the caller; with `x-test-die-at-commit: 1` the connection is ended while
   * COMMIT runs (a deferred constraint trigger fires at COMMIT and terminates its own backend).
   */
  @IdempotentPost('marker')
  @HttpCode(201)
  @Auth()
  async marker(@CurrentUser() user: AuthUser, @Headers('x-test-die-at-commit') die?: string): Promise<unknown> {
    return this.tx.run(async (m) => {
      await m.query(`INSERT INTO test_markers (user_id) VALUES ($1)`, [user.userId]);
      if (die === '1') {
        await m.query(`CREATE TEMP TABLE commit_bomb (x int) ON COMMIT DROP`);
        await m.query(`CREATE FUNCTION pg_temp.explode() RETURNS trigger LANGUAGE plpgsql AS
                       $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$`);
        await m.query(`CREATE CONSTRAINT TRIGGER explode AFTER INSERT ON commit_bomb DEFERRABLE INITIALLY DEFERRED
                       FOR EACH ROW EXECUTE FUNCTION pg_temp.explode()`);
        await m.query(`INSERT INTO commit_bomb VALUES (1)`);
      }
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM test_markers WHERE user_id = $1`, [user.userId]);
      return { markers: n };
    });
  }

  @IdempotentPost('echo')
  @Auth()
  echo(@Body() body: EchoDto): EchoDto & { countType: string } {
    this.logger.log(`echo ${body.name}`);
    return { ...body, countType: typeof body.count };
  }

  @IdempotentPost('boom')
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
