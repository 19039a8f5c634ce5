/**
 * Turns the serial console's CRLF line ends (the guest tty's onlcr) back into LF, across chunk
 * boundaries: a CR at the end of a chunk is held until the next chunk shows what follows it.
 */
export class CrlfFilter {
  private held = false;

  push(chunk: string): string {
    let text = this.held ? `\r${chunk}` : chunk;
    this.held = text.endsWith('\r');
    if (this.held) text = text.slice(0, -1);
    return text.replace(/\r+\n/g, '\n');
  }

  flush(): string {
    const out = this.held ? '\r' : '';
    this.held = false;
    return out;
  }
}

/** The last `size` lines of a stream of text, for error reports. */
export class Tail {
  private lines: string[] = [''];

  constructor(private readonly size = 15) {}

  push(text: string): void {
    const parts = text.split('\n');
    this.lines[this.lines.length - 1] += parts[0] ?? '';
    this.lines.push(...parts.slice(1));
    if (this.lines.length > this.size + 1) this.lines = this.lines.slice(-(this.size + 1));
  }

  get(): string[] {
    const all = this.lines.at(-1) === '' ? this.lines.slice(0, -1) : this.lines;
    return all.slice(-this.size).map((l) => l.replace(/\r/g, ''));
  }
}
