/**
 * User text on a terminal: titles come from anyone, so what reaches the screen is made printable
 * first, and columns are measured in terminal cells, not UTF-16 units.
 */
import stringWidth from 'string-width';

// Escape sequences (CSI and OSC included) first, then any other C0/C1 control character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])?/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/** One line of printable text: escape sequences removed, newlines, tabs and other control characters shown as spaces. */
export function printable(text: string): string {
  return text.replace(ESCAPES, '').replace(CONTROLS, ' ');
}

/** `text` (printable) cut with `…` or padded with spaces to exactly `width` terminal cells. */
export function fit(text: string, width: number): string {
  const clean = printable(text);
  const full = stringWidth(clean);
  if (full <= width) return clean + ' '.repeat(width - full);
  let out = '';
  let used = 0;
  for (const char of clean) {
    const w = stringWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…${' '.repeat(width - 1 - used)}`;
}
