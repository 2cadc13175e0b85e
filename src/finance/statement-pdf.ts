import PDFDocument from 'pdfkit';

import type { StatementResponseDto } from '../credits/dto/statements.dto.js';

const MARGIN = 50;
const COLUMNS = {
  date: MARGIN,
  kind: MARGIN + 70,
  credits: MARGIN + 150,
  value: MARGIN + 225,
  description: MARGIN + 325,
};
const NUMBER_WIDTH = 70;

const integer = (n: number): string => n.toLocaleString('en-US');

/** Resolves with the whole document once pdfkit has written it (after `doc.end()`). */
function collect(doc: PDFKit.PDFDocument): Promise<Buffer> {
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}

function row(doc: PDFKit.PDFDocument, cells: [string, string, string, string, string], bold = false): void {
  if (doc.y > doc.page.height - MARGIN - 20) doc.addPage();
  const y = doc.y;
  doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
  doc.text(cells[0], COLUMNS.date, y, { width: 65, lineBreak: false });
  doc.text(cells[1], COLUMNS.kind, y, { width: 75, lineBreak: false });
  doc.text(cells[2], COLUMNS.credits, y, { width: NUMBER_WIDTH, align: 'right', lineBreak: false });
  doc.text(cells[3], COLUMNS.value, y, { width: NUMBER_WIDTH + 20, align: 'right', lineBreak: false });
  // A size smaller, so an allocation's or a purchase's id (36 characters) fits on one line of the
  // column; when the whole description does not, the id starts the next line, whole (left to
  // pdfkit, a line would end at one of its hyphens).
  if (!bold) doc.fontSize(8);
  const width = doc.page.width - COLUMNS.description - MARGIN;
  const text = doc.widthOfString(cells[4]) > width ? cells[4].replace(/ (?=\S{30,}$)/, '\n') : cells[4];
  doc.text(text, COLUMNS.description, y, { width });
  doc.fontSize(9);
  doc.moveDown(0.3);
}

/**
 * The statement as a PDF (A4): the platform's name, the account, the month, the opening and closing
 * credits, and every line, with the same figures as the JSON. Written with pdfkit's standard fonts.
 */
export function statementPdf(platformName: string, s: StatementResponseDto): Promise<Buffer> {
  const account = s.orgId ? `Organisation ${s.orgId}` : `User ${s.userId}`;
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: { Title: `${platformName} statement ${s.month}`, Author: platformName },
  });
  const done = collect(doc);
  doc.font('Helvetica-Bold').fontSize(18).text(platformName);
  doc.font('Helvetica').fontSize(12).text(`Credit statement for ${s.month} (UTC)`);
  doc.text(account);
  doc.moveDown();
  doc.fontSize(11).text(`Opening credits: ${integer(s.openingCredits)}`);
  doc.text(`Closing credits: ${integer(s.closingCredits)}`);
  doc.moveDown();
  row(doc, ['Date', 'Kind', 'Credits', 'Value', 'Description'], true);
  for (const line of s.lines) {
    const value = line.value === undefined ? '' : `${line.value} ${line.currency!.toUpperCase()}`;
    row(doc, [line.date, line.kind, integer(line.credits), value, line.description]);
  }
  if (s.lines.length === 0) doc.font('Helvetica').fontSize(9).text('No movements this month.', MARGIN);
  doc.moveDown();
  doc
    .font('Helvetica')
    .fontSize(8)
    .text(
      'Closing credits = opening credits + the credits of the lines. Credits held by an open session still ' +
        'count: a hold has not consumed them. Value: the money paid for the credits of the line (none for ' +
        'promotional credits).',
      MARGIN,
    );
  doc.end();
  return done;
}
