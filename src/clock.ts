/** The default clock: whole epoch seconds, the time unit of every column of the board. */
export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
