/**
 * A small ELF reader for code fingerprints: what a language verdict needs, read from a file
 * handle at offsets (a 100 MB runtime binary is not read into memory whole).
 *
 * Reads: the header, program headers (PT_INTERP), section headers and names, notes (GNU build
 * id, Go build id), the dynamic section (NEEDED, SONAME), the dynamic symbol table (defined and
 * undefined names), .comment, Go's build info, and whether given markers occur in the static
 * symbol names (.strtab) or in read-only data (bounded reads).
 */
import type { FileHandle } from 'node:fs/promises';

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface GoBuildInfo {
  version: string;
  /** main module path ("" when built without module info) */
  module: string;
  /** main package path */
  path: string;
}

export interface ElfInfo {
  bits: 32 | 64;
  type: 'EXEC' | 'DYN' | 'REL' | 'CORE' | `TYPE_${number}`;
  machine: number;
  interpreter: string;
  sections: ElfSection[];
  buildId: string;
  goBuildId: string;
  needed: string[];
  soname: string;
  /** .comment strings (compiler idents) */
  comment: string[];
  definedSymbols: Set<string>;
  undefinedSymbols: Set<string>;
  goBuildInfo: GoBuildInfo | undefined;
  /** markers found in .strtab (static symbol names) */
  symtabMarkers: Set<string>;
  /** markers found in .rodata */
  rodataMarkers: Set<string>;
}

export class NotElfError extends Error {}

const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_DYNAMIC = 6;
const SHT_NOTE = 7;
const SHT_DYNSYM = 11;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_SONAME = 14;
const NT_GNU_BUILD_ID = 3;
const NT_GO_BUILD_ID = 4;

/** Bounds on what is read, so a hostile or huge file costs bounded time and memory. */
const MAX_SECTIONS = 4096;
const MAX_TABLE_BYTES = 64 << 20;
const MAX_RODATA_BYTES = 48 << 20;
const MAX_DYNSYMS = 500_000;

const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

function cstr(buf: Buffer, off: number): string {
  if (off < 0 || off >= buf.length) return '';
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 ? buf.length : end);
}

export interface ReadElfOptions {
  /** substrings to look for in static symbol names (.strtab) */
  symtabMarkers?: readonly string[];
  /** substrings to look for in .rodata */
  rodataMarkers?: readonly string[];
}

export async function readElf(fh: FileHandle, fileSize: number, opts: ReadElfOptions = {}): Promise<ElfInfo> {
  const ident = await readAt(fh, 0, 64);
  if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError('not an ELF file');
  const bits = ident[4] === 2 ? 64 : ident[4] === 1 ? 32 : 0;
  if (!bits) throw new NotElfError(`unknown ELF class ${ident[4]}`);
  if (ident[5] !== 1) throw new NotElfError('big-endian ELF is not supported');
  const is64 = bits === 64;
  const u16 = (b: Buffer, o: number) => b.readUInt16LE(o);
  const u32 = (b: Buffer, o: number) => b.readUInt32LE(o);
  const addr = (b: Buffer, o: number) => (is64 ? b.readBigUInt64LE(o) : BigInt(b.readUInt32LE(o)));
  const off = (b: Buffer, o: number) => Number(addr(b, o));

  const etype = u16(ident, 16);
  const machine = u16(ident, 18);
  const phoff = off(ident, is64 ? 32 : 28);
  const shoff = off(ident, is64 ? 40 : 32);
  const phentsize = u16(ident, is64 ? 54 : 42);
  const phnum = u16(ident, is64 ? 56 : 44);
  const shentsize = u16(ident, is64 ? 58 : 46);
  const shnum = Math.min(u16(ident, is64 ? 60 : 48), MAX_SECTIONS);
  const shstrndx = u16(ident, is64 ? 62 : 50);
  const types: Record<number, ElfInfo['type']> = { 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE' };

  const info: ElfInfo = {
    bits,
    type: types[etype] ?? `TYPE_${etype}`,
    machine,
    interpreter: '',
    sections: [],
    buildId: '',
    goBuildId: '',
    needed: [],
    soname: '',
    comment: [],
    definedSymbols: new Set(),
    undefinedSymbols: new Set(),
    goBuildInfo: undefined,
    symtabMarkers: new Set(),
    rodataMarkers: new Set(),
  };

  // Program headers: the interpreter (a dynamically linked program names its loader).
  if (phoff > 0 && phnum > 0 && phoff + phnum * phentsize <= fileSize) {
    const ph = await readAt(fh, phoff, phnum * phentsize);
    for (let i = 0; i < phnum; i++) {
      const p = i * phentsize;
      if (u32(ph, p) !== PT_INTERP) continue;
      const o = off(ph, is64 ? p + 8 : p + 4);
      const sz = Number(is64 ? ph.readBigUInt64LE(p + 32) : BigInt(ph.readUInt32LE(p + 16)));
      if (sz > 0 && sz < 4096 && o + sz <= fileSize) info.interpreter = cstr(await readAt(fh, o, sz), 0);
    }
  }

  // Section headers and their names.
  if (shoff > 0 && shnum > 0 && shoff + shnum * shentsize <= fileSize) {
    const sh = await readAt(fh, shoff, shnum * shentsize);
    const raw: Array<Omit<ElfSection, 'name'> & { nameOff: number }> = [];
    for (let i = 0; i < shnum; i++) {
      const s = i * shentsize;
      raw.push({
        nameOff: u32(sh, s),
        type: u32(sh, s + 4),
        flags: is64 ? sh.readBigUInt64LE(s + 8) : BigInt(u32(sh, s + 8)),
        addr: addr(sh, is64 ? s + 16 : s + 12),
        offset: off(sh, is64 ? s + 24 : s + 16),
        size: off(sh, is64 ? s + 32 : s + 20),
        link: u32(sh, is64 ? s + 40 : s + 24),
        entsize: off(sh, is64 ? s + 56 : s + 36),
      });
    }
    const names = raw[shstrndx];
    const strtab = names && names.offset + names.size <= fileSize && names.size < MAX_TABLE_BYTES ? await readAt(fh, names.offset, names.size) : Buffer.alloc(0);
    info.sections = raw.map(({ nameOff, ...rest }) => ({ name: cstr(strtab, nameOff), ...rest }));
  }
  const inFile = (s: ElfSection) => s.type !== 8 /* NOBITS */ && s.offset + s.size <= fileSize && s.size > 0;
  const section = (name: string) => info.sections.find((s) => s.name === name && inFile(s));

  // Notes: build ids.
  for (const s of info.sections.filter((x) => x.type === SHT_NOTE && inFile(x) && x.size < 1 << 20)) {
    const b = await readAt(fh, s.offset, s.size);
    for (let p = 0; p + 12 <= b.length; ) {
      const namesz = u32(b, p);
      const descsz = u32(b, p + 4);
      const ntype = u32(b, p + 8);
      const name = b.toString('latin1', p + 12, p + 12 + namesz).replace(/\0+$/, '');
      const desc = p + 12 + ((namesz + 3) & ~3);
      if (desc + descsz > b.length) break;
      if (name === 'GNU' && ntype === NT_GNU_BUILD_ID) info.buildId = b.toString('hex', desc, desc + descsz);
      if (name === 'Go' && ntype === NT_GO_BUILD_ID) info.goBuildId = b.toString('utf8', desc, desc + descsz);
      p = desc + ((descsz + 3) & ~3);
    }
  }

  // Dynamic section: NEEDED and SONAME (strings in the section it links to).
  const dyn = info.sections.find((s) => s.type === SHT_DYNAMIC && inFile(s));
  if (dyn && dyn.size < 1 << 20) {
    const d = await readAt(fh, dyn.offset, dyn.size);
    const strSec = info.sections[dyn.link];
    const dynstr = strSec && inFile(strSec) && strSec.size < MAX_TABLE_BYTES ? await readAt(fh, strSec.offset, strSec.size) : Buffer.alloc(0);
    const ent = is64 ? 16 : 8;
    for (let p = 0; p + ent <= d.length; p += ent) {
      const tag = is64 ? Number(d.readBigInt64LE(p)) : d.readInt32LE(p);
      if (tag === 0) break;
      const val = is64 ? Number(d.readBigUInt64LE(p + 8)) : d.readUInt32LE(p + 4);
      if (tag === DT_NEEDED) info.needed.push(cstr(dynstr, val));
      else if (tag === DT_SONAME) info.soname = cstr(dynstr, val);
    }
  }

  // Dynamic symbols: names, defined (st_shndx != 0) or undefined (imports).
  const dynsym = info.sections.find((s) => s.type === SHT_DYNSYM && inFile(s));
  if (dynsym && dynsym.entsize > 0 && dynsym.size / dynsym.entsize <= MAX_DYNSYMS) {
    const syms = await readAt(fh, dynsym.offset, dynsym.size);
    const strSec = info.sections[dynsym.link];
    const str = strSec && inFile(strSec) && strSec.size < MAX_TABLE_BYTES ? await readAt(fh, strSec.offset, strSec.size) : Buffer.alloc(0);
    for (let p = dynsym.entsize; p + dynsym.entsize <= syms.length; p += dynsym.entsize) {
      const name = cstr(str, u32(syms, p));
      if (!name) continue;
      const shndx = u16(syms, is64 ? p + 6 : p + 14);
      (shndx === 0 ? info.undefinedSymbols : info.definedSymbols).add(name);
    }
  }

  // .comment: NUL-separated compiler idents.
  const comment = section('.comment');
  if (comment && comment.size < 1 << 20) {
    info.comment = [...new Set((await readAt(fh, comment.offset, comment.size)).toString('utf8').split('\0').map((x) => x.trim()).filter(Boolean))];
  }

  // Go build info: its own section, or (stripped section headers) found by its magic in .data.
  const goSec = section('.go.buildinfo');
  if (goSec) info.goBuildInfo = parseGoBuildInfo(await readAt(fh, goSec.offset, Math.min(goSec.size, 1 << 20)), fh);
  if (goSec && info.goBuildInfo === undefined) info.goBuildInfo = { version: '', module: '', path: '' };

  // Markers in static symbol names and read-only data.
  if (opts.symtabMarkers?.length) {
    const symtab = info.sections.find((s) => s.type === SHT_SYMTAB && inFile(s));
    const strSec = symtab ? info.sections[symtab.link] : undefined;
    if (strSec && strSec.type === SHT_STRTAB && inFile(strSec) && strSec.size <= MAX_TABLE_BYTES) {
      const str = await readAt(fh, strSec.offset, strSec.size);
      for (const m of opts.symtabMarkers) if (str.includes(m)) info.symtabMarkers.add(m);
    }
  }
  if (opts.rodataMarkers?.length) {
    const ro = section('.rodata');
    if (ro) {
      const b = await readAt(fh, ro.offset, Math.min(ro.size, MAX_RODATA_BYTES));
      for (const m of opts.rodataMarkers) if (b.includes(m)) info.rodataMarkers.add(m);
    }
  }
  return info;
}

/** Reads an unsigned LEB128 varint at `off`: [value, next offset]. */
function uvarint(b: Buffer, off: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (let i = off; i < b.length && shift < 35; i++) {
    const byte = b[i]!;
    v += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [v, i + 1];
    shift += 7;
  }
  return [-1, b.length];
}

/**
 * Go's build info (runtime/debug.BuildInfo in the binary, Go >= 1.18 "inline strings" form):
 * 16-byte header "\xff Go buildinf:" + ptrSize + flags, padded to 32, then two varint-prefixed
 * strings: the Go version and the module info (bracketed by 16-byte sentinels), whose lines are
 * "path\t<main package>", "mod\t<module path>\t<version>\t<sum>", "dep\t...", "build\t...".
 * Older binaries store pointers instead: only the presence is reported.
 */
export function parseGoBuildInfo(b: Buffer, _fh?: FileHandle): GoBuildInfo | undefined {
  const at = b.indexOf(GO_BUILDINFO_MAGIC);
  if (at < 0 || at + 32 > b.length) return undefined;
  const flags = b[at + 15]!;
  if (!(flags & 2)) return { version: '', module: '', path: '' };
  let p = at + 32;
  const [vlen, p1] = uvarint(b, p);
  if (vlen < 0 || p1 + vlen > b.length) return undefined;
  const version = b.toString('utf8', p1, p1 + vlen);
  p = p1 + vlen;
  const [mlen, p2] = uvarint(b, p);
  let module = '';
  let mainPath = '';
  if (mlen > 32 && p2 + mlen <= b.length) {
    const mod = b.toString('utf8', p2 + 16, p2 + mlen - 16);
    for (const line of mod.split('\n')) {
      const [k, v] = line.split('\t');
      if (k === 'mod' && v) module = v;
      else if (k === 'path' && v) mainPath = v;
    }
  }
  return { version, module, path: mainPath };
}
