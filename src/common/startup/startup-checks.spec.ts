import { createServer } from 'node:net';

import { describe, expect, it } from 'vitest';

import { buildAppConfig } from '../../config/app-config.js';
import { checkPortFree, databaseProblem, dataDirInUse, portProblem, StartupError } from './startup-checks.js';

const URL_ = 'postgres://app:secret@db.internal:6543/accounting';
const oneSentence = (text: string) => {
  expect(text).toMatch(/^[A-Z].*\.$/);
  expect(text).not.toMatch(/\.\s+\S/); // no second sentence
  expect(text).not.toMatch(/\n/);
};

describe('start-up problems: one sentence naming the cause and the fix', () => {
  it.each([
    ['ECONNREFUSED', /^No database answers at db\.internal:6543 \(connection refused\): .*correct DATABASE_URL/],
    ['ENOTFOUND', /^The database host "db\.internal" is unknown: correct the host in DATABASE_URL\.$/],
    ['ETIMEDOUT', /^The database at db\.internal:6543 cannot be reached \(ETIMEDOUT\)/],
    [
      '28P01',
      /^The database at db\.internal:6543 refused the user "app" .*: correct the user and password in DATABASE_URL\.$/,
    ],
    ['3D000', /^The database "accounting" does not exist at db\.internal:6543: create it \(createdb accounting\)/],
  ])('%s', (code, sentence) => {
    const problem = databaseProblem(URL_, 'DATABASE_URL', Object.assign(new Error('x'), { code }));
    expect(problem).toBeInstanceOf(StartupError);
    expect(problem.message).toMatch(sentence);
    oneSentence(problem.message);
    expect(problem.message).not.toContain('secret'); // never the password
  });

  it('names the DB_* variables when those configured the database, and copes with any other error', () => {
    const problem = databaseProblem(URL_, 'DB_HOST', new Error('something odd.\nhappened'));
    expect(problem.message).toBe(
      'The database at db.internal:6543 could not be used (something odd. happened): check DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD.',
    );
    expect(
      databaseProblem(URL_, 'DATABASE_URL', new Error('Connection terminated due to connection timeout')).message,
    ).toMatch(/did not answer in time/);
    expect(databaseProblem('postgres://[bad', 'DATABASE_URL', new Error('x')).message).toBe(
      'DATABASE_URL is not a valid URL: write it as postgres://user:password@host:5432/database.',
    );
  });

  it('a busy port, and one that needs privileges', async () => {
    oneSentence(portProblem(3001, 'EADDRINUSE')!.message);
    expect(portProblem(3001, 'EADDRINUSE')!.message).toMatch(/for example PORT=3002 npm start\.$/);
    // On the embedded database a second copy needs a data directory of its own too.
    oneSentence(portProblem(3001, 'EADDRINUSE', './data')!.message);
    expect(portProblem(3001, 'EADDRINUSE', './data/')!.message).toMatch(
      /with a data directory of its own, for example PORT=3002 DATA_DIR=\.\/data-3002 npm start\.$/,
    );
    oneSentence(dataDirInUse('./data', 42, 3002).message);
    expect(dataDirInUse('./data', 42, 3002).message).toMatch(
      /for example PORT=3002 DATA_DIR=\.\/data-3002 npm start\.$/,
    );
    expect(dataDirInUse('/srv/data', 42, 0).message).toMatch(/for example DATA_DIR=\/srv\/data-2 npm start\.$/);
    expect(portProblem(80, 'EACCES')!.message).toMatch(/^Port 80 needs privileges/);
    expect(portProblem(3001, 'EOTHER')).toBeNull();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const port = (busy.address() as { port: number }).port;
    await expect(checkPortFree(port)).rejects.toThrow(new RegExp(`^Port ${port} is already in use`));
    await new Promise<void>((resolve) => busy.close(() => resolve()));
    await expect(checkPortFree(port)).resolves.toBeUndefined();
    await expect(checkPortFree(0)).resolves.toBeUndefined();
  });
});

describe('LOG_FORMAT and SWAGGER_ENABLED', () => {
  const secrets = { JWT_ACCESS_SECRET: 'j'.repeat(40), WEBHOOK_SECRET_KEY: 'w'.repeat(40) };
  it('text for a person in development, JSON elsewhere; Swagger UI on except in production', () => {
    expect(buildAppConfig({})).toMatchObject({ logFormat: 'pretty', swaggerEnabled: true });
    expect(buildAppConfig({ NODE_ENV: 'test', ...secrets })).toMatchObject({ logFormat: 'json', swaggerEnabled: true });
    expect(buildAppConfig({ NODE_ENV: 'production', ...secrets })).toMatchObject({
      logFormat: 'json',
      swaggerEnabled: false,
    });
    expect(
      buildAppConfig({ NODE_ENV: 'production', LOG_FORMAT: 'pretty', SWAGGER_ENABLED: 'true', ...secrets }),
    ).toMatchObject({ logFormat: 'pretty', swaggerEnabled: true });
    expect(buildAppConfig({ LOG_FORMAT: 'json', SWAGGER_ENABLED: 'false' })).toMatchObject({
      logFormat: 'json',
      swaggerEnabled: false,
    });
    expect(() => buildAppConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});
