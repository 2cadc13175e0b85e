import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { csvLine, csvNumber, csvText, defuseFormula } from './usage-csv.js';

/**
 * How a spreadsheet reads a CSV file with a given separator: a quote opens a quoted value only at the
 * start of a cell (`""` inside is a quote), anything after its closing quote is taken as it is, and a
 * line break outside quotes ends the row.
 */
function spreadsheetCells(text: string, separator: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let atStart = true;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') cell += c;
      else if (text[i + 1] === '"') cell += text[++i];
      else quoted = false;
    } else if (atStart && c === '"') {
      quoted = true;
      atStart = false;
    } else if (c === separator || c === '\r' || c === '\n') {
      cells.push(cell);
      cell = '';
      atStart = true;
    } else {
      cell += c;
      atStart = false;
    }
  }
  cells.push(cell);
  return cells;
}

/** A reader that splits first and unquotes after: every separator or line break starts a cell. */
function naiveCells(text: string, separator: string): string[] {
  return text.split(new RegExp(`[${separator}\r\n]`)).map((cell) => cell.replace(/^"+/, ''));
}

/** Read as a formula: it starts, after blanks or quote marks, with =, +, -, @, tab or CR. */
const isFormula = (cell: string) => /^(?:[^\S\t\r\n]|")*[=+\-@\t\r]/.test(cell);

const SEPARATORS = [',', ';', '\t'];
const tricky = fc.string({
  unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ' ', '\u00a0', '"', "'", ',', ';', 'a', '1', '|', '!'),
  maxLength: 24,
});

describe('csvText', () => {
  it('quotes every text, doubles quote marks, and leaves null empty', () => {
    expect(csvText('plain')).toBe('"plain"');
    expect(csvText('a,b')).toBe('"a,b"');
    expect(csvText('say "hi"\n')).toBe('"say ""hi""\n"');
    expect(csvText({ a: 1, b: 'x' })).toBe('"{""a"":1,""b"":""x""}"');
    expect(csvText(null)).toBe('');
    expect(csvText(undefined)).toBe('');
    expect(csvText('')).toBe('""');
  });

  it.each([
    ['=SUM(A1)', `"'=SUM(A1)"`],
    ['+1', `"'+1"`],
    ['-5', `"'-5"`],
    ['@cmd', `"'@cmd"`],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
    [' =cmd', `"' =cmd"`],
    ['\u00a0 @x', `"'\u00a0 @x"`],
    ['"=cmd', `"'""=cmd"`],
  ])('a cell beginning a formula (%j) starts with a single quote', (text, cell) => {
    expect(csvText(text)).toBe(cell);
  });

  it.each([
    ["ok;=cmd|' /C calc'!A0", `"ok;'=cmd|' /C calc'!A0"`],
    ['ok\t+1', `"ok\t'+1"`],
    ['a, -1', `"a, '-1"`],
    ['line\n@x', `"line\n'@x"`],
    ['x; "=y', `"x; ""'=y"`],
  ])('a formula after a separator or line break inside the text (%j) is defused too', (text, cell) => {
    expect(csvText(text)).toBe(cell);
  });

  it('leaves text without formulas as it is', () => {
    for (const text of ['chat', 'a-b', 'x=1', 'user@example.com', "it's", '2026-11-21T12:00:00.000Z'])
      expect(defuseFormula(text)).toBe(text);
  });

  it('no cell reads as a formula with any separator, however a spreadsheet splits the line', () => {
    fc.assert(
      fc.property(tricky, tricky, (a, b) => {
        const line = csvLine([csvText(a), csvText(b), csvNumber(7), csvText(null)]);
        for (const separator of SEPARATORS) {
          for (const cell of [...spreadsheetCells(line, separator), ...naiveCells(line, separator)])
            expect(isFormula(cell), `${JSON.stringify(line)} split on ${JSON.stringify(separator)}`).toBe(false);
        }
        // Read back with the separator it was written with, each text is whole (with its quote marks).
        expect(spreadsheetCells(line.slice(0, -2), ',')).toEqual([defuseFormula(a), defuseFormula(b), '7', '']);
      }),
      { numRuns: 2000 },
    );
    // 2,000 runs take about a second alone; a machine busy with the int and e2e files can take five.
  }, 30_000);
});

describe('csvNumber', () => {
  it('writes numbers the service computed plainly', () => {
    expect(csvNumber(0)).toBe('0');
    expect(csvNumber(2500)).toBe('2500');
    expect(csvNumber(null)).toBe('');
  });
});
