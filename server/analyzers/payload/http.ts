/**
 * HTTP/1.x requests and responses (request line or status line, then the headers an analyst
 * asks about first), and HTTP/2 (the client connection preface and frame headers).
 *
 * A request cut by the capture still counts when its first line is readable; headers past the
 * capture are simply not reported.
 */
import { latin1, startsWithAscii, u24be, u32be, u8 } from './bytes';

const METHODS = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'PURGE',
];
const REQUEST_LINE = new RegExp(`^(${METHODS.join('|')}) ([!-~]+) HTTP/1\\.([01])\\r?\\n`);
const REQUEST_START = new RegExp(`^(${METHODS.join('|')}) ([!-~]+)$`);
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: ([^\r\n]*))?\r?\n/;

export interface HttpHeaders {
  host?: string;
  userAgent?: string;
  contentType?: string;
  contentLength?: number;
  /** the scheme of an Authorization header ("Bearer"), never its value */
  authorization?: string;
  server?: string;
}

export interface HttpRequest {
  method: string;
  target: string;
  version: string;
  headers: HttpHeaders;
  /** the request line or headers were cut by the capture */
  truncated: boolean;
}

export interface HttpResponse {
  status: number;
  reasonPhrase: string;
  version: string;
  headers: HttpHeaders;
  truncated: boolean;
}

function parseHeaders(block: string): { headers: HttpHeaders; complete: boolean } {
  const end = block.search(/\r?\n\r?\n/);
  const lines = (end >= 0 ? block.slice(0, end) : block).split(/\r?\n/);
  // The last line may be cut: keep it only for the Authorization scheme, complete once a space follows it.
  const last = end < 0 ? lines.pop() : undefined;
  const scheme = last ? /^authorization:\s*(\S+)\s/i.exec(last) : null;
  const headers: HttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'host') headers.host = value;
    else if (name === 'user-agent') headers.userAgent = value;
    else if (name === 'content-type') headers.contentType = value;
    else if (name === 'content-length' && /^\d+$/.test(value)) headers.contentLength = Number(value);
    else if (name === 'authorization') headers.authorization = value.split(' ')[0];
    else if (name === 'server') headers.server = value;
  }
  if (scheme) headers.authorization = scheme[1];
  return { headers, complete: end >= 0 };
}

/** An HTTP/1.x request, or null. `truncated` says the message is longer than the captured bytes. */
export function parseHttpRequest(b: Uint8Array, truncated: boolean): HttpRequest | null {
  const text = latin1(b);
  const m = REQUEST_LINE.exec(text);
  if (m) {
    const { headers, complete } = parseHeaders(text.slice(m[0].length));
    return { method: m[1]!, target: m[2]!, version: `1.${m[3]}`, headers, truncated: truncated && !complete };
  }
  // The capture may end inside a long request line (a URL with a big query string).
  const start = truncated ? REQUEST_START.exec(text) : null;
  if (start && text.length >= 16) return { method: start[1]!, target: start[2]!, version: '1.?', headers: {}, truncated: true };
  return null;
}

export function parseHttpResponse(b: Uint8Array, truncated: boolean): HttpResponse | null {
  const text = latin1(b);
  const m = STATUS_LINE.exec(text);
  if (!m) return null;
  const { headers, complete } = parseHeaders(text.slice(m[0].length));
  return { status: Number(m[2]), reasonPhrase: m[3] ?? '', version: `1.${m[1]}`, headers, truncated: truncated && !complete };
}

export const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

const FRAME_TYPES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];
const SETTINGS = ['', 'HEADER_TABLE_SIZE', 'ENABLE_PUSH', 'MAX_CONCURRENT_STREAMS', 'INITIAL_WINDOW_SIZE', 'MAX_FRAME_SIZE', 'MAX_HEADER_LIST_SIZE'];
/** Largest frame payload a peer may announce (2^24 - 1); default max is 16 KiB. */
const MAX_FRAME_LENGTH = (1 << 24) - 1;

export interface Http2Frame {
  type: string;
  length: number;
  flags: number;
  streamId: number;
  /** SETTINGS frames: the settings read */
  settings?: Record<string, number>;
}

export interface Http2Message {
  preface: boolean;
  frames: Http2Frame[];
}

function frameType(t: number): string {
  return FRAME_TYPES[t] ?? (t === 0x0a ? 'ALTSVC' : t === 0x0c ? 'ORIGIN' : t === 0x10 ? 'PRIORITY_UPDATE' : `0x${t.toString(16)}`);
}

function readSettings(b: Uint8Array, off: number, length: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let p = off; p + 6 <= Math.min(b.length, off + length); p += 6) {
    const id = (b[p]! << 8) | b[p + 1]!;
    out[SETTINGS[id] || `0x${id.toString(16)}`] = u32be(b, p + 2)!;
  }
  return out;
}

/** Frame headers from `off` while they fit in the captured bytes. Null when the first is implausible. */
export function parseHttp2Frames(b: Uint8Array, off = 0): Http2Frame[] | null {
  const frames: Http2Frame[] = [];
  let p = off;
  while (p + 9 <= b.length) {
    const length = u24be(b, p)!;
    const type = u8(b, p + 3)!;
    const streamWord = u32be(b, p + 5)!;
    // Known types only, reserved bit clear, SETTINGS/PING/GOAWAY on stream 0 with their fixed sizes.
    if (length > MAX_FRAME_LENGTH || type > 0x10 || streamWord >>> 31 !== 0) return frames.length > 0 ? frames : null;
    const streamId = streamWord & 0x7fffffff;
    if (type === 4 && (streamId !== 0 || length % 6 !== 0)) return frames.length > 0 ? frames : null;
    if (type === 6 && (streamId !== 0 || length !== 8)) return frames.length > 0 ? frames : null;
    const frame: Http2Frame = { type: frameType(type), length, flags: b[p + 4]!, streamId };
    if (type === 4) frame.settings = readSettings(b, p + 9, length);
    frames.push(frame);
    p += 9 + length;
  }
  return frames.length > 0 ? frames : null;
}

/** The client connection preface (and the frames after it), or null. */
export function parseHttp2Preface(b: Uint8Array): Http2Message | null {
  if (!startsWithAscii(b, HTTP2_PREFACE)) return null;
  return { preface: true, frames: parseHttp2Frames(b, HTTP2_PREFACE.length) ?? [] };
}
