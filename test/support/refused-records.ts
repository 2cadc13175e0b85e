/**
 * A usage record whose `service` starts with this is refused by the run's database: a trigger made
 * once by the global setup (test/support/global-setup.ts) raises on its row, so the statement that
 * carries it fails as a whole and the statements around it do not — a fault in one record's row
 * only, without a spec altering the shared table while others run.
 */
export const REFUSED_SERVICE = 'test-refused';
