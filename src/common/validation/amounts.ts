/**
 * The ranges of credit amounts and token counts, declared once. Credits are PostgreSQL `integer`
 * (docs/money.md), and so is every column a derived amount lands in (a hold, a charge, a refund, a
 * shortfall): an amount computed beyond this is bad input (400), never an overflow in SQL (500).
 */
export const MAX_CREDITS = 2_147_483_647;

/** Token counts are stored in `integer` columns too; a split's input + output must also fit. */
export const MAX_TOKENS = 2_147_483_647;
