/** CSV (RFC 4180) cells; text that a spreadsheet would run as a formula is prefixed with `'`. */
export function csvCell(value: unknown, text = true): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: string[]): string {
  return `${cells.join(',')}\r\n`;
}
