import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

// SWC compiles the TypeScript so decorator metadata (which Nest's DI needs) is emitted.
const plugins = [swc.vite({ module: { type: 'es6' }, jsc: { target: 'es2023' } })];

/** Specs on the run's fresh, migrated database (one for all such projects: test/support/global-setup.ts). */
const withDatabase = {
  environment: 'node',
  // Spec files of a worker share its module graph: the app's modules are loaded once per worker,
  // not once per file (each file still starts its own app; nothing keeps state in module scope).
  isolate: false,
  globalSetup: ['./test/support/global-setup.ts'],
  // A failing test prints its apps' error log lines (a 500's cause).
  setupFiles: ['./test/support/failed-test-logs.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

/** E2E specs whose assertions compare latencies (docs/usage.md "Beside metering"): project `alone`. */
const ALONE = ['test/corrections-pool.e2e-spec.ts'];

export default defineConfig({
  plugins,
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Spec files share one database; each uses its own users, so two run side by side.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      {
        plugins,
        test: {
          name: 'unit',
          include: ['src/**/*.spec.ts', 'test/unit/**/*.spec.ts'],
          environment: 'node',
          // Files of a worker share its module graph, as the database projects' do: a fresh one for
          // each of the 99 files imported Nest, TypeORM and the sources again, two-thirds of the
          // project's CPU. The specs that fake timers, spy or mock modules undo it themselves.
          isolate: false,
          // A few unit specs run a script or read every tracked file: beside two e2e workers on two
          // cores that took over vitest's 5 s default, a time no unit spec asserts.
          testTimeout: 30_000,
        },
      },
      {
        plugins,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          exclude: [...configDefaults.exclude, ...ALONE],
          ...withDatabase,
        },
      },
      {
        // Specs that measure latency against the same instance's own baseline: they run after every
        // other project has ended, one file at a time, so the machine's other load is not theirs
        // (beside another spec file on a two-core machine, the p99 is that file's).
        plugins,
        test: {
          name: 'alone',
          include: ALONE,
          ...withDatabase,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The client kit (clients/meter): the real provider SDKs, installed in clients/meter by
        // `npm ci --prefix clients/meter`, against a replay of their wire formats and the built service.
        plugins,
        test: { name: 'kit', include: ['clients/meter/test/**/*.test.ts'], ...withDatabase },
      },
      {
        // Services, jobs and repositories driven directly (no HTTP) on the same real database.
        plugins,
        test: { name: 'int', include: ['test/**/*.int-spec.ts'], ...withDatabase },
      },
    ],
  },
});
