/**
 * Plain text: UTF-8 (or ASCII) whose characters are nearly all printable, with a few hints at
 * well-known text protocols (Redis RESP, PEM, base64 blobs, SMTP-like command lines).
 */
import { decodeUtf8Prefix } from './bytes';

/** Share of printable characters from which a message counts as text. */
const TEXT_RATIO = 0.95;

function printable(code: number): boolean {
  return code === 0x09 || code === 0x0a || code === 0x0d || (code >= 0x20 && code < 0x7f) || code >= 0xa0;
}

export interface TextMeasure {
  /** share of printable characters */
  ratio: number;
  text: string | null;
  /** every byte printable ASCII (tab, CR, LF allowed) */
  pureAscii: boolean;
}

export function measureText(bytes: Uint8Array): TextMeasure {
  // NULs that only terminate the text (C strings, many wire protocols) do not make it binary.
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const b = end > 0 && end < bytes.length ? bytes.subarray(0, end) : bytes;
  if (b.length === 0) return { ratio: 0, text: null, pureAscii: false };
  let asciiPrintable = 0;
  for (const x of b) if (x < 0x80 && printable(x)) asciiPrintable++;
  const pureAscii = asciiPrintable === b.length;
  const text = b.includes(0) ? null : decodeUtf8Prefix(b);
  if (text === null) return { ratio: asciiPrintable / b.length, text: null, pureAscii };
  let ok = 0;
  let all = 0;
  for (const ch of text) {
    all++;
    if (printable(ch.codePointAt(0)!)) ok++;
  }
  return { ratio: all === 0 ? 0 : ok / all, text, pureAscii };
}

export function isText(m: TextMeasure): boolean {
  return m.text !== null && m.ratio >= TEXT_RATIO;
}

/** A short hint at what the text is, when recognisable. */
export function textHint(text: string): string | undefined {
  const resp = /^\*(\d+)\r\n\$(\d+)\r\n([A-Za-z]+)/.exec(text);
  if (resp) return `Redis RESP command ${resp[3]!.toUpperCase()} (${resp[1]} arguments)`;
  if (/^[+\-:$]\S*\r\n/.test(text) && text.length < 64) return 'Redis RESP reply';
  const pem = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (pem) return `PEM ${pem[1]!.toLowerCase()}`;
  if (/^(EHLO|HELO|MAIL FROM:|RCPT TO:|USER |PASS |AUTH )/i.test(text)) return 'a mail or login protocol command line';
  const compact = text.replace(/\s+/g, '');
  if (compact.length >= 32 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return 'a base64 blob';
  return undefined;
}
