/** CSV output shared by every export (reports, label exports, Classify downloads). */

/**
 * One CSV field for a file people open in a spreadsheet: quoted when it holds a comma, quote or line
 * break (RFC 4180), and a text starting with = + - @ (or a tab / carriage return) prefixed with ' so
 * that Excel, LibreOffice and Google Sheets show it instead of running it as a formula (CSV injection).
 * Plain numbers ("-0.5", "+3") are left as they are: they cannot be formulas.
 */
export function csvCell(value: string): string {
  const neutral = /^[=+\-@\t\r]/.test(value) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(neutral) ? `"${neutral.replace(/"/g, '""')}"` : neutral;
}
