/**
 * Code fingerprints: sha256, ELF build id, size and a language verdict with its evidence, for a
 * process's executable and each of its executable mappings.
 *
 * Files are read through the process's own view whenever it exists: /proc/PID/exe for the
 * executable, /proc/PID/map_files/START-END for a mapping (the very file mapped, even when it
 * was deleted or replaced since, or lives in another mount namespace), else /proc/PID/root/PATH,
 * else the path as the host sees it.
 *
 * Verdicts are cached by sha256 (the same library in a hundred processes is classified once);
 * a (device, inode, size, mtime) -> sha256 cache spares re-hashing an unchanged file.
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { CodeKind, type CodeFingerprint } from '../../gen/soc/sensor/v1/sensor';
import { classify, RODATA_MARKERS, SYMTAB_MARKERS, type Verdict } from './classify';
import { NotElfError, readElf } from './elf';

interface CachedVerdict {
  verdict: Verdict;
  buildId: string;
  isElf: boolean;
  error: string;
}

const CACHE_MAX = 4096;

/** Largest file hashed and parsed (a runtime binary is ~100 MB; beyond this, the rest is unread). */
export const MAX_FINGERPRINT_BYTES = 1 << 30;

export interface FingerprintRequest {
  /** the path as the process sees it (reported) */
  path: string;
  /** where to read it (a /proc view of the process, or the path) */
  readFrom: string[];
  /** executable, or a mapping (refined here: shared object / native module) */
  executable: boolean;
  mapAddress?: string;
  mappedAtNs: string;
}

export class CodeFingerprinter {
  private readonly bySha = new Map<string, CachedVerdict>();
  private readonly shaByStat = new Map<string, string>();
  /** files hashed and classified (cache misses), for tests and status */
  stats = { classified: 0, cached: 0, failed: 0 };

  async fingerprint(req: FingerprintRequest): Promise<CodeFingerprint> {
    const base: CodeFingerprint = {
      path: req.path,
      kind: req.executable ? CodeKind.CODE_KIND_EXECUTABLE : CodeKind.CODE_KIND_SHARED_OBJECT,
      language: 'unknown',
      runtime: '',
      evidence: [],
      buildId: '',
      sha256: '',
      size: '0',
      mappedAtNs: req.mappedAtNs,
      goVersion: '',
      goModule: '',
      mapAddress: req.mapAddress ?? '0',
      error: '',
      cached: false,
    };
    let lastError = 'no readable path';
    for (const candidate of req.readFrom) {
      try {
        return await this.fromFile(candidate, base);
      } catch (e) {
        lastError = `${candidate}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      }
    }
    this.stats.failed++;
    return { ...base, error: `cannot read: ${lastError}` };
  }

  private async fromFile(file: string, base: CodeFingerprint): Promise<CodeFingerprint> {
    const fh = await open(file, 'r');
    try {
      const st = await fh.stat({ bigint: true });
      const size = Number(st.size);
      const statKey = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
      let sha = this.shaByStat.get(statKey);
      if (!sha) {
        sha = await sha256Of(fh, Math.min(size, MAX_FINGERPRINT_BYTES));
        remember(this.shaByStat, statKey, sha);
      }
      let cached = this.bySha.get(sha);
      const hit = cached !== undefined;
      if (!cached) {
        cached = await this.verdictOf(fh, size, base.path);
        remember(this.bySha, sha, cached);
        this.stats.classified++;
      } else {
        this.stats.cached++;
      }
      const v = cached.verdict;
      let kind = base.kind;
      if (kind === CodeKind.CODE_KIND_SHARED_OBJECT && v.nativeModuleOf) kind = CodeKind.CODE_KIND_NATIVE_MODULE;
      return {
        ...base,
        kind,
        language: v.language,
        runtime: v.runtime,
        evidence: v.evidence,
        buildId: cached.buildId,
        sha256: sha,
        size: String(size),
        goVersion: v.goVersion,
        goModule: v.goModule,
        error: cached.error,
        cached: hit,
      };
    } finally {
      await fh.close();
    }
  }

  private async verdictOf(fh: Awaited<ReturnType<typeof open>>, size: number, file: string): Promise<CachedVerdict> {
    try {
      const elf = await readElf(fh, size, { symtabMarkers: SYMTAB_MARKERS, rodataMarkers: RODATA_MARKERS });
      return { verdict: classify(elf, file), buildId: elf.buildId || elf.goBuildId, isElf: true, error: '' };
    } catch (e) {
      const notElf = e instanceof NotElfError;
      return {
        verdict: { language: 'unknown', runtime: '', evidence: [notElf ? `not an ELF file (${(e as Error).message})` : 'unparsable ELF'], nativeModuleOf: '', goVersion: '', goModule: '' },
        buildId: '',
        isElf: false,
        error: notElf ? '' : `ELF parse failed: ${(e as Error).message}`,
      };
    }
  }
}

function remember<K, V>(m: Map<K, V>, k: K, v: V): void {
  if (m.size >= CACHE_MAX) m.delete(m.keys().next().value as K);
  m.set(k, v);
}

async function sha256Of(fh: Awaited<ReturnType<typeof open>>, limit: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  for (let pos = 0; pos < limit; ) {
    const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, limit - pos), pos);
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest('hex');
}

/** One executable mapping of a process, from /proc/PID/maps. */
export interface ExecMapping {
  start: string; // hex, as in maps
  end: string;
  offset: bigint;
  inode: bigint;
  path: string; // '' for anonymous
  deleted: boolean;
}

/** The executable mappings of /proc/PID/maps text (kernel-provided ones like [vdso] left out). */
export function parseExecMappings(maps: string): ExecMapping[] {
  const out: ExecMapping[] = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m || m[3]![2] !== 'x') continue;
    let p = m[6] ?? '';
    if (p.startsWith('[')) continue; // [vdso], [vsyscall]: the kernel's
    const deleted = p.endsWith(' (deleted)');
    if (deleted) p = p.slice(0, -' (deleted)'.length);
    out.push({ start: m[1]!, end: m[2]!, offset: BigInt(`0x${m[4]}`), inode: BigInt(m[5]!), path: p, deleted });
  }
  return out;
}

export async function readExecMappings(pid: number): Promise<ExecMapping[]> {
  return parseExecMappings(await readFile(`/proc/${pid}/maps`, 'utf8'));
}

/** Where to read a mapping's file from, best first. */
export function mappingSources(pid: number, m: ExecMapping): string[] {
  const out = [`/proc/${pid}/map_files/${m.start}-${m.end}`];
  if (m.path.startsWith('/')) out.push(`/proc/${pid}/root${m.path}`, m.path);
  return out;
}
