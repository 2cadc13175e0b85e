/**
 * The person an erasure takes out of their own account's rows (docs/erasure.md). Each module that
 * keeps text about an account rewrites its own tables with erase_text() / erase_json(), limited to
 * this user's rows through an index; the patterns are built in SQL from `$2` (email) and `$3`
 * (username), so every statement matches exactly the same way.
 */
export interface ErasedPerson {
  userId: string;
  /** The user's account (the engine's key), null when they never had one. */
  accountId: string | null;
  email: string | null;
  username: string | null;
}

/** `$1` the user id, `$2` the email, `$3` the username: the parameters of every erasure statement. */
export const erasureParams = (p: ErasedPerson): (string | null)[] => [p.userId, p.email, p.username];

/** The same with `$1` the account id instead, for the tables keyed by the account. */
export const accountErasureParams = (p: ErasedPerson): (string | null)[] => [p.accountId, p.email, p.username];

/** The email's pattern (a whole address, any case) from `$2`. */
export const EMAIL_RE = 'erase_email_pattern($2)';
/** The username's pattern (a whole word) from `$3`, for the columns that hold words about a person. */
export const NAME_RE = 'erase_name_pattern($3)';

/** The person's rows of one kind, by the audit log's target type: entries about them are theirs too. */
export interface ErasedRows {
  targetType: string;
  ids: string[];
}
