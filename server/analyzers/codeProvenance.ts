/**
 * Code provenance: in what language is the code doing the suspicious thing written, and is that
 * the workload's own language?
 *
 * Inputs are the sensor's fingerprints: the workload's main executable (for a language runtime
 * such as node, its `language` is the language it runs: JavaScript), the modules the process
 * mapped, and — when the evidence says — the module the activity points to (from the user stack
 * of the thread that made the syscall or submitted the io_uring request).
 *
 * "Differs" compares languages, treating C and C++ as one family only when the workload itself
 * is native (a C++ program loading a C library is ordinary). How ordinary a difference is comes
 * from a small table of what each ecosystem commonly loads:
 *   - JavaScript: C/C++ addons are common (bcrypt, sharp, better-sqlite3); Rust addons exist
 *     (napi-rs: @swc/core, lightningcss) but are uncommon; Go or anything else is rare;
 *   - Python: C/C++ extensions and Rust (PyO3: pydantic-core, cryptography) are common; Go rare;
 *   - JVM: JNI libraries in C/C++ are common (netty-tcnative, rocksdbjni), Rust uncommon;
 *   - Ruby, PHP, .NET: C/C++ common, Rust uncommon;
 *   - Go: cgo C libraries uncommon (most Go is static), Rust rare;
 *   - Rust: C/C++ libraries common; native C/C++ programs: Rust uncommon.
 * Anything else is rare. System libraries (under /lib, /usr/lib...) and the runtime's own
 * libraries are the workload's plumbing: they never count as differing candidates, only when
 * the evidence points at them.
 *
 * Limits: the verdict is only as good as the sensor's language evidence; a module that the
 * evidence cannot tie to the activity is a candidate, not a culprit.
 */
import type { CodeFingerprint, CodeKind, CodeOrigin, Language } from './types';

export type Commonness = 'same' | 'common' | 'uncommon' | 'rare' | 'unknown';

export interface ModuleProvenance {
  path: string;
  kind: CodeKind;
  language: Language;
  evidence: string[];
  differs: boolean;
  commonness: Commonness;
  /** "native module … is Rust (rustc 1.76.0 in .comment) inside a JavaScript runtime (node v20.11.1)" */
  reason: string;
  fingerprintId: string;
}

export interface ProvenanceVerdict {
  workloadLanguage: Language;
  /** "node v20.11.1", when the executable is a runtime */
  workloadRuntime?: string;
  executable: string;
  /** the module the evidence points to, when known */
  responsible: ModuleProvenance | null;
  /** the language of the code doing it ('unknown' when the evidence does not say) */
  language: Language;
  differs: boolean;
  commonness: Commonness;
  reason: string;
  /** mapped modules whose language differs from the workload's (not system libraries) */
  candidates: ModuleProvenance[];
}

export interface ProvenanceInput {
  executable: CodeFingerprint;
  modules: readonly CodeFingerprint[];
  responsible?: CodeOrigin;
}

const LANGUAGE_NAMES: Record<Language, string> = {
  javascript: 'JavaScript', python: 'Python', java: 'Java (JVM)', ruby: 'Ruby', php: 'PHP', dotnet: '.NET',
  go: 'Go', rust: 'Rust', c: 'C', cpp: 'C++', zig: 'Zig', unknown: 'of unknown language',
};

/** "JavaScript", "Rust", "C++", ... */
export function languageName(l: Language): string {
  return l === 'unknown' ? 'unknown' : LANGUAGE_NAMES[l];
}

const KIND_NAMES: Record<CodeKind, string> = { executable: 'executable', shared_object: 'shared object', native_module: 'native module' };

type Family = 'c' | 'rust' | 'go' | 'other';

function family(l: Language): Family {
  if (l === 'c' || l === 'cpp') return 'c';
  if (l === 'rust' || l === 'go') return l;
  return 'other';
}

const NATIVE: ReadonlySet<Language> = new Set(['c', 'cpp', 'rust', 'go', 'zig']);

/** What an ecosystem commonly loads: host language -> module family -> [commonness, note]. */
const COMMONNESS: Partial<Record<Language, Partial<Record<Family, [Commonness, string]>>>> = {
  javascript: {
    c: ['common', 'C/C++ addons (bcrypt, sharp, better-sqlite3) are common in Node apps'],
    rust: ['uncommon', 'Rust addons exist (napi-rs: @swc/core, lightningcss) but are uncommon in Node apps'],
    go: ['rare', 'Go code built as a Node addon is rare'],
  },
  python: {
    c: ['common', 'C/C++ extension modules are common in Python'],
    rust: ['common', 'Rust extensions (PyO3: pydantic-core, cryptography) are common in Python'],
    go: ['rare', 'Go code loaded into Python is rare'],
  },
  java: {
    c: ['common', 'JNI libraries in C/C++ (netty-tcnative, rocksdbjni) are common on the JVM'],
    rust: ['uncommon', 'Rust JNI libraries are uncommon'],
    go: ['rare', 'Go code loaded into a JVM is rare'],
  },
  ruby: { c: ['common', 'C extensions are common in Ruby'], rust: ['uncommon', 'Rust extensions are uncommon in Ruby'] },
  php: { c: ['common', 'C extensions are common in PHP'], rust: ['uncommon', 'Rust extensions are uncommon in PHP'] },
  dotnet: { c: ['common', 'native C/C++ libraries are common in .NET apps'], rust: ['uncommon', 'Rust libraries are uncommon in .NET apps'] },
  go: { c: ['uncommon', 'cgo C libraries are uncommon (most Go binaries are static)'], rust: ['rare', 'Rust code loaded into a Go program is rare'] },
  rust: { c: ['common', 'Rust programs commonly link C/C++ libraries'], go: ['rare', 'Go code loaded into a Rust program is rare'] },
  c: { rust: ['uncommon', 'Rust libraries in a C/C++ program are uncommon'], go: ['rare', 'Go code loaded into a C/C++ program is rare'] },
  cpp: { rust: ['uncommon', 'Rust libraries in a C/C++ program are uncommon'], go: ['rare', 'Go code loaded into a C/C++ program is rare'] },
};

const SYSTEM_PREFIXES = ['/lib/', '/lib64/', '/usr/lib/', '/usr/lib64/', '/usr/libexec/'];
/** The runtimes' own libraries (libnode, libpython, libjvm, ...), wherever installed. */
const RUNTIME_LIBRARY = /\/lib(node|python[\d.]*|jvm|ruby|php[\d.]*|coreclr|clrjit|hostfxr|v8|uv|java|jli)[^/]*\.so(\.[\d.]+)?$/;

export function isSystemLibrary(path: string): boolean {
  return SYSTEM_PREFIXES.some((p) => path.startsWith(p)) || RUNTIME_LIBRARY.test(path);
}

/** Whether code in `module`'s language differs from a `host` workload's (C and C++ one family among native programs). */
export function languagesDiffer(host: Language, module: Language): boolean {
  return differs(host, module);
}

function differs(host: Language, module: Language): boolean {
  if (host === 'unknown' || module === 'unknown') return false;
  if (NATIVE.has(host) && NATIVE.has(module)) return family(host) !== family(module);
  return host !== module;
}

function commonnessOf(host: Language, module: Language): [Commonness, string] {
  if (host === 'unknown' || module === 'unknown') return ['unknown', 'the language of one side is unknown'];
  if (!differs(host, module)) return ['same', `the workload's own language`];
  return COMMONNESS[host]?.[family(module)] ?? ['rare', `${LANGUAGE_NAMES[module]} code inside a ${LANGUAGE_NAMES[host]} workload is rare`];
}

function runtimeText(exe: CodeFingerprint): string | undefined {
  return exe.runtime ? [exe.runtime.name, exe.runtime.version].filter(Boolean).join(' ') : undefined;
}

function hostText(exe: CodeFingerprint): string {
  if (exe.language === 'unknown') return `an executable of unknown language (${exe.path})`;
  const runtime = runtimeText(exe);
  return runtime ? `a ${LANGUAGE_NAMES[exe.language]} runtime (${runtime})` : `a ${LANGUAGE_NAMES[exe.language]} program (${exe.path})`;
}

function moduleProvenance(m: CodeFingerprint, exe: CodeFingerprint): ModuleProvenance {
  const [commonness, note] = commonnessOf(exe.language, m.language);
  const evidence = m.languageEvidence.length > 0 ? ` (${m.languageEvidence.join('; ')})` : '';
  const language = m.language === 'unknown' ? 'of unknown language' : LANGUAGE_NAMES[m.language];
  const d = differs(exe.language, m.language);
  const tail = d ? `; ${note}` : commonness === 'same' ? '; the same language as the workload' : '';
  return {
    path: m.path, kind: m.kind, language: m.language, evidence: m.languageEvidence, differs: d, commonness, fingerprintId: m.id,
    reason: `${KIND_NAMES[m.kind]} ${m.path} is ${language}${evidence} inside ${hostText(exe)}${tail}`,
  };
}

const RANK: Record<Commonness, number> = { rare: 0, uncommon: 1, common: 2, unknown: 3, same: 4 };

/** Answers "what kind of code is doing it" (see the module comment). */
export function codeProvenance(input: ProvenanceInput): ProvenanceVerdict {
  const exe = input.executable;
  const candidates = input.modules
    .filter((m) => m.path !== exe.path && !isSystemLibrary(m.path) && differs(exe.language, m.language))
    .map((m) => moduleProvenance(m, exe))
    .sort((a, b) => RANK[a.commonness] - RANK[b.commonness] || a.path.localeCompare(b.path));
  const base = { workloadLanguage: exe.language, workloadRuntime: runtimeText(exe), executable: exe.path, candidates };
  const pointed = input.responsible?.modulePath;
  if (pointed) {
    const fp = pointed === exe.path ? exe : input.modules.find((m) => m.path === pointed);
    if (!fp) {
      return {
        ...base, responsible: null, language: 'unknown', differs: false, commonness: 'unknown',
        reason: `the evidence points to ${pointed}, which was not fingerprinted; ${candidateSummary(candidates, input.modules.length)}`,
      };
    }
    if (fp === exe) {
      return {
        ...base, responsible: null, language: exe.language, differs: false, commonness: 'same',
        reason: `the activity comes from the executable itself (${exe.path}): ${hostText(exe)}, the workload's own code or runtime`,
      };
    }
    const responsible = moduleProvenance(fp, exe);
    return { ...base, responsible, language: fp.language, differs: responsible.differs, commonness: responsible.commonness, reason: responsible.reason };
  }
  return {
    ...base, responsible: null, language: 'unknown', differs: false, commonness: 'unknown',
    reason: `the evidence does not say which code did it; ${candidateSummary(candidates, input.modules.length)}`,
  };
}

function candidateSummary(candidates: readonly ModuleProvenance[], mapped: number): string {
  if (candidates.length === 0) return `none of the ${mapped} mapped modules is in another language than the workload (system libraries aside)`;
  const shown = candidates.slice(0, 2).map((c) => c.reason).join('; ');
  return `${candidates.length} of ${mapped} mapped modules ${candidates.length === 1 ? 'is' : 'are'} in another language: ${shown}${candidates.length > 2 ? '; …' : ''}`;
}
