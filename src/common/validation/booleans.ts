/**
 * For `@Transform` on boolean query fields: the strings `true` and `false` become booleans; anything
 * else is left as it is, for `@IsBoolean` to refuse.
 */
export const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;
