/**
 * JSON that may be cut short: a validator that answers "complete", "incomplete" (valid so far,
 * the capture ended inside it) or "invalid", so a 256-byte prefix of a 4 KiB JSON body is still
 * recognised. Several values separated by whitespace (JSON lines) are accepted.
 *
 * Only objects and arrays count as a JSON payload: a bare number or string is too weak a sign.
 */

export type JsonStatus = 'complete' | 'incomplete' | 'invalid';

export interface JsonScan {
  status: JsonStatus;
  /** the first value's type */
  top?: 'object' | 'array';
  /** keys of the first top-level object, as far as they were read (at most 10) */
  keys: string[];
  values: number;
}

class Incomplete extends Error {}
class Invalid extends Error {}

const MAX_DEPTH = 64;

class Scanner {
  pos = 0;
  keys: string[] = [];
  constructor(private readonly s: string) {}

  private peek(): string {
    if (this.pos >= this.s.length) throw new Incomplete();
    return this.s[this.pos]!;
  }

  ws(): void {
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos]!)) this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  value(depth: number, collectKeys: boolean): void {
    if (depth > MAX_DEPTH) throw new Invalid();
    this.ws();
    const c = this.peek();
    if (c === '{') return this.object(depth, collectKeys);
    if (c === '[') return this.array(depth);
    if (c === '"') return void this.string();
    if (c === 't') return this.literal('true');
    if (c === 'f') return this.literal('false');
    if (c === 'n') return this.literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    throw new Invalid();
  }

  private literal(word: string): void {
    for (const ch of word) {
      if (this.peek() !== ch) throw new Invalid();
      this.pos++;
    }
  }

  private digits(): number {
    const start = this.pos;
    while (this.pos < this.s.length && this.s[this.pos]! >= '0' && this.s[this.pos]! <= '9') this.pos++;
    if (this.pos === this.s.length) throw new Incomplete(); // more digits may follow
    return this.pos - start;
  }

  private number(): void {
    if (this.peek() === '-') this.pos++;
    if (this.peek() === '0') this.pos++;
    else if (this.digits() === 0) throw new Invalid();
    if (this.pos < this.s.length && this.s[this.pos] === '.') {
      this.pos++;
      if (this.digits() === 0) throw new Invalid();
    }
    if (this.pos < this.s.length && (this.s[this.pos] === 'e' || this.s[this.pos] === 'E')) {
      this.pos++;
      if (this.peek() === '+' || this.peek() === '-') this.pos++;
      if (this.digits() === 0) throw new Invalid();
    }
    if (this.pos >= this.s.length) throw new Incomplete();
  }

  string(): string {
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.peek();
      this.pos++;
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.peek();
        this.pos++;
        if (e === 'u') {
          for (let i = 0; i < 4; i++) {
            if (!/[0-9a-fA-F]/.test(this.peek())) throw new Invalid();
            this.pos++;
          }
        } else if (!'"\\/bfnrt'.includes(e)) throw new Invalid();
        out += '?';
      } else if (c < ' ') {
        throw new Invalid();
      } else out += c;
    }
  }

  private object(depth: number, collectKeys: boolean): void {
    this.pos++;
    this.ws();
    if (this.peek() === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.peek() !== '"') throw new Invalid();
      const key = this.string();
      if (collectKeys && this.keys.length < 10) this.keys.push(key);
      this.ws();
      if (this.peek() !== ':') throw new Invalid();
      this.pos++;
      this.value(depth + 1, false);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c === '}') return;
      if (c !== ',') throw new Invalid();
    }
  }

  private array(depth: number): void {
    this.pos++;
    this.ws();
    if (this.peek() === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value(depth + 1, false);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c === ']') return;
      if (c !== ',') throw new Invalid();
    }
  }
}

export function scanJson(text: string): JsonScan {
  const scanner = new Scanner(text);
  scanner.ws();
  const first = scanner.atEnd() ? '' : text[scanner.pos];
  if (first !== '{' && first !== '[') return { status: 'invalid', keys: [], values: 0 };
  const top = first === '{' ? 'object' : 'array';
  let values = 0;
  try {
    for (;;) {
      scanner.ws();
      if (scanner.atEnd()) return { status: 'complete', top, keys: scanner.keys, values };
      scanner.value(0, values === 0);
      values++;
    }
  } catch (err) {
    if (err instanceof Incomplete) return { status: 'incomplete', top, keys: scanner.keys, values };
    if (err instanceof Invalid) return { status: 'invalid', top, keys: scanner.keys, values };
    throw err;
  }
}
