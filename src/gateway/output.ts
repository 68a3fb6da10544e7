/** Each of the worker's stdout and stderr keeps this many bytes of its head and of its tail. */
export const OUTPUT_KEEP_BYTES = 32 * 1024;

/**
 * A stream's text kept whole up to twice `keep` bytes; past that, its first and last `keep` bytes
 * with a marker saying how much was left out between them.
 */
export class OutputBuffer {
  private head = Buffer.alloc(0);
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(private readonly keep = OUTPUT_KEEP_BYTES) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const forHead = Math.max(0, this.keep - this.head.length);
    if (forHead > 0) this.head = Buffer.concat([this.head, chunk.subarray(0, forHead)]);
    const rest = chunk.subarray(forHead);
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= this.keep) this.tailBytes -= this.tail.shift()?.length ?? 0;
  }

  /** The kept text; NUL bytes, which the board cannot store, become U+FFFD. */
  text(): string {
    return this.joined().replace(/\0/g, '\uFFFD');
  }

  private joined(): string {
    const tail = Buffer.concat(this.tail);
    const kept = tail.subarray(Math.max(0, tail.length - this.keep));
    const cut = this.total - this.head.length - kept.length;
    if (cut <= 0) return Buffer.concat([this.head, kept]).toString('utf8');
    return `${this.head.toString('utf8')}\n[… ${cut} bytes of output left out …]\n${kept.toString('utf8')}`;
  }
}
