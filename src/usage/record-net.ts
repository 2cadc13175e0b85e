/**
 * usage_record_net() (src/usage/sql/) over the usage record aliased `alias`: the record's net credits,
 * open review amount, review amount, what its corrections moved and how many it has, defined once in
 * SQL and read by every statement through this (docs/usage.md "Corrections"). A FROM item (after
 * `CROSS JOIN LATERAL`); PostgreSQL inlines it.
 */
export const recordNet = (alias: string): string =>
  `usage_record_net(${alias}.id, ${alias}.credits, ${alias}.shortfall, ${alias}.review_status)`;

/** One figure of usage_record_net() for the record aliased `alias`, as a scalar expression (a column). */
export const recordNetFigure = (
  alias: string,
  figure: 'net_credits' | 'open_review' | 'review' | 'corrected' | 'correction_count',
): string => `(SELECT n.${figure} FROM ${recordNet(alias)} n)`;
