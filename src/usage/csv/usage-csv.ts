/**
 * CSV (RFC 4180) cells that no spreadsheet reads as a formula, whatever separator it splits on
 * (`,`, `;`, tab) — OWASP's CSV injection guidance: every text cell is quoted, and a cell whose text
 * begins with `=`, `+`, `-`, `@`, tab or CR (also after blanks or quote marks) gets a leading `'`.
 * Quoting alone does not do: a reader splitting on `;` starts a cell after each `;` inside our quoted
 * text (`ok;=cmd|' /C calc'!A0`), so a trigger after a separator or line break inside the text gets a
 * `'` before it too. Numbers the service writes itself stay plain.
 */
const TRIGGER = '[=+\\-@\\t\\r]';
/** Blanks (not tab or line breaks, which are separators or triggers themselves) and quote marks. */
const BLANKS = '(?:[^\\S\\t\\r\\n]|")*';
const AT_START = new RegExp(`^${BLANKS}${TRIGGER}`);
const AFTER_SEPARATOR = new RegExp(`([,;\\t\\r\\n]${BLANKS})(?=${TRIGGER})`, 'g');

/** Text as it may safely stand in a cell: a `'` where a spreadsheet could start a formula. */
export function defuseFormula(text: string): string {
  const inside = text.replace(AFTER_SEPARATOR, "$1'");
  return AT_START.test(inside) ? `'${inside}` : inside;
}

/** A text cell: always quoted, formulas defused; objects as JSON; null and undefined empty. */
export function csvText(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return `"${defuseFormula(s).replace(/"/g, '""')}"`;
}

/** A number the service computed (credits, token counts): plain; null and undefined empty. */
export function csvNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

export function csvLine(cells: string[]): string {
  return `${cells.join(',')}\r\n`;
}
