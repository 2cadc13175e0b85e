import { describe, expect, it } from 'vitest';

import { buildAppConfig, ConfigValidationError } from './app-config.js';

describe('HEAVY_READS_CONCURRENCY and HEAVY_READ_TIMEOUT_SECONDS', () => {
  it('two at a time for 120 s on one core each at the lowest priority by default; all read from the environment', () => {
    expect(buildAppConfig({}).heavyReads).toEqual({
      concurrency: 2,
      timeoutSeconds: 120,
      parallelWorkers: 0,
      nice: 19,
    });
    expect(
      buildAppConfig({
        HEAVY_READS_CONCURRENCY: '4',
        HEAVY_READ_TIMEOUT_SECONDS: '30',
        HEAVY_READS_PARALLEL_WORKERS: '2',
        HEAVY_READS_NICE: '0',
      }).heavyReads,
    ).toEqual({ concurrency: 4, timeoutSeconds: 30, parallelWorkers: 2, nice: 0 });
  });

  it.each([
    ['HEAVY_READS_CONCURRENCY', '0'],
    ['HEAVY_READS_CONCURRENCY', '65'],
    ['HEAVY_READS_CONCURRENCY', 'two'],
    ['HEAVY_READ_TIMEOUT_SECONDS', '0'],
    ['HEAVY_READ_TIMEOUT_SECONDS', '3601'],
    ['HEAVY_READ_TIMEOUT_SECONDS', '2m'],
    ['HEAVY_READS_NICE', '20'],
    ['HEAVY_READS_NICE', '-1'],
  ])('%s=%s stops start-up, naming the variable', (name, value) => {
    let problems: string[] = [];
    try {
      buildAppConfig({ [name]: value });
    } catch (error) {
      problems = (error as ConfigValidationError).problems;
    }
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name} must be an integer between`));
  });
});
