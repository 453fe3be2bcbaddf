/**
 * What kind of code an ELF file is, with the evidence for the verdict.
 *
 * Two questions, answered separately:
 *  - the language the file was written in (Go, Rust, C++, C) or the runtime it IS (a JVM, a
 *    JavaScript runtime, a Python interpreter, .NET): the runtime wins for a runtime's own
 *    binary (node is C++, deno is Rust; what matters is that it runs JavaScript);
 *  - whether it is a native module of a runtime (it imports Node-API, exports PyInit_* or
 *    JNI_OnLoad): then `runtime` names the host and `language` stays the module's own.
 * Every rule that fires adds a line of evidence; rules are ordered from the most specific
 * marker (Go's build info) to the default (C: an ELF file with none of the others' markers).
 */
import path from 'node:path';
import type { ElfInfo } from './elf';

/** Substrings looked for in static symbol names (.strtab). */
export const SYMTAB_MARKERS = [
  'rust_panic',
  '__rust_',
  '_ZN4core9panicking',
  '_ZN3std9panicking',
  '\0_RNv', // Rust v0 mangling
  '\0_RINv',
  '\0_Z', // Itanium C++ mangling (Rust's legacy mangling too: checked after Rust)
  'napi_module_register',
  'Py_Initialize',
  'JNI_CreateJavaVM',
  'coreclr_initialize',
  'runtime.main', // Go, when the build info section is gone
  'runtime.gopanic',
] as const;

/** Substrings looked for in .rodata. */
export const RODATA_MARKERS = [
  '/rustc/', // panic locations of Rust's standard library (also in stripped binaries)
  'deno_core',
  'Deno.core',
  'Bun.serve',
  'bun-v',
  'Go buildinf:',
] as const;

export interface Verdict {
  language: string;
  runtime: string;
  evidence: string[];
  /** a native module of `runtime` (set only for shared objects that bind to a runtime) */
  nativeModuleOf: string;
  goVersion: string;
  goModule: string;
}

const has = (set: Set<string>, ...names: string[]) => names.find((n) => set.has(n));
const neededMatch = (info: ElfInfo, re: RegExp) => info.needed.find((n) => re.test(n));

/** The runtime a shared object binds to as a native module, with the evidence ('' when none). */
function nativeModuleHost(info: ElfInfo, file: string): [string, string] {
  const napi = [...info.undefinedSymbols].find((s) => s.startsWith('napi_'));
  if (napi) return ['node', `imports Node-API (${napi})`];
  if (has(info.definedSymbols, 'node_register_module_v1') || [...info.definedSymbols].some((s) => s.startsWith('node_register_module_v'))) {
    return ['node', 'exports node_register_module_v* (Node.js addon)'];
  }
  if (file.endsWith('.node') && info.type === 'DYN') return ['node', 'a .node shared object (Node.js addon)'];
  const pyInit = [...info.definedSymbols].find((s) => s.startsWith('PyInit_'));
  if (pyInit) return ['cpython', `exports ${pyInit} (CPython extension module)`];
  if (has(info.definedSymbols, 'JNI_OnLoad')) return ['jvm', 'exports JNI_OnLoad (JNI library)'];
  const jni = [...info.definedSymbols].find((s) => s.startsWith('Java_'));
  if (jni) return ['jvm', `exports ${jni} (JNI method)`];
  return ['', ''];
}

/** The runtime this file is, if it is one. */
function runtimeOf(info: ElfInfo, base: string): { language: string; runtime: string; evidence: string } | undefined {
  if (has(info.definedSymbols, 'napi_module_register', 'node_module_register')) {
    return { language: 'JavaScript', runtime: 'node', evidence: 'defines napi_module_register (the Node.js runtime: Node-API host)' };
  }
  const libnode = neededMatch(info, /^libnode\.so/);
  if (libnode) return { language: 'JavaScript', runtime: 'node', evidence: `NEEDED ${libnode} (the Node.js runtime)` };
  if (info.rodataMarkers.has('deno_core') || info.rodataMarkers.has('Deno.core')) {
    return { language: 'JavaScript', runtime: 'deno', evidence: `.rodata mentions ${info.rodataMarkers.has('deno_core') ? 'deno_core' : 'Deno.core'} (the Deno runtime)` };
  }
  if (info.rodataMarkers.has('Bun.serve') || (base === 'bun' && info.rodataMarkers.has('bun-v'))) {
    return { language: 'JavaScript', runtime: 'bun', evidence: '.rodata mentions Bun.serve (the Bun runtime)' };
  }
  if (base === 'libjvm.so' || has(info.definedSymbols, 'JNI_CreateJavaVM')) {
    return { language: 'JVM', runtime: 'hotspot', evidence: base === 'libjvm.so' ? 'the JVM itself (libjvm.so)' : 'defines JNI_CreateJavaVM (a JVM)' };
  }
  const jvm = neededMatch(info, /^lib(jvm|jli)\.so/);
  if (jvm) return { language: 'JVM', runtime: 'java', evidence: `NEEDED ${jvm} (a JVM launcher)` };
  const py = neededMatch(info, /^libpython\d/);
  if (py) return { language: 'Python', runtime: 'cpython', evidence: `NEEDED ${py} (a CPython interpreter)` };
  if (/^libpython\d/.test(base) || has(info.definedSymbols, 'Py_Initialize', 'Py_BytesMain')) {
    return { language: 'Python', runtime: 'cpython', evidence: 'defines Py_Initialize (the CPython interpreter)' };
  }
  const dotnet = neededMatch(info, /^lib(hostfxr|coreclr|hostpolicy)\.so/);
  if (dotnet) return { language: '.NET', runtime: 'coreclr', evidence: `NEEDED ${dotnet} (.NET host)` };
  if (/^lib(coreclr|hostfxr|hostpolicy)\.so$/.test(base) || has(info.definedSymbols, 'coreclr_initialize', 'hostfxr_main')) {
    return { language: '.NET', runtime: 'coreclr', evidence: 'defines coreclr_initialize / hostfxr_main (.NET runtime)' };
  }
  return undefined;
}

/** The language the file itself was written in. */
function sourceLanguage(info: ElfInfo): { language: string; evidence: string[]; goVersion: string; goModule: string } {
  const evidence: string[] = [];
  // Go: the build info section (version, module), else its build id note or runtime symbols.
  const goRuntime = info.symtabMarkers.has('runtime.main') && info.symtabMarkers.has('runtime.gopanic');
  if (info.goBuildInfo || info.goBuildId || info.sections.some((s) => s.name === '.gopclntab') || info.rodataMarkers.has('Go buildinf:') || goRuntime) {
    const bi = info.goBuildInfo;
    if (bi?.version) evidence.push(`.go.buildinfo: ${bi.version}${bi.module ? `, module ${bi.module}` : ''}${bi.path && bi.path !== bi.module ? `, package ${bi.path}` : ''}`);
    else if (bi) evidence.push('.go.buildinfo section');
    if (info.goBuildId) evidence.push('Go build id note');
    if (info.sections.some((s) => s.name === '.gopclntab')) evidence.push('.gopclntab section (Go runtime tables)');
    if (goRuntime) evidence.push('symbols: runtime.main, runtime.gopanic');
    return { language: 'Go', evidence, goVersion: bi?.version ?? '', goModule: bi?.module ?? '' };
  }
  // Rust: the compiler's ident, its panic machinery, v0 mangling, its library's panic paths.
  const rustc = info.comment.find((c) => c.toLowerCase().includes('rustc'));
  if (rustc) evidence.push(`.comment: ${rustc}`);
  for (const m of ['rust_panic', '__rust_', '_ZN4core9panicking', '_ZN3std9panicking']) if (info.symtabMarkers.has(m)) evidence.push(`symbols: ${m}…`);
  const rustDyn = [...info.definedSymbols, ...info.undefinedSymbols].find((s) => s.startsWith('__rust_') || s === 'rust_eh_personality');
  if (rustDyn) evidence.push(`dynamic symbol ${rustDyn}`);
  if (info.symtabMarkers.has('\0_RNv') || info.symtabMarkers.has('\0_RINv')) evidence.push('Rust v0-mangled symbols (_R…)');
  if (info.rodataMarkers.has('/rustc/')) evidence.push('.rodata: Rust standard library paths (/rustc/…)');
  if (evidence.length > 0) return { language: 'Rust', evidence, goVersion: '', goModule: '' };
  // C++: its standard library, or mangled names.
  const stdcxx = neededMatch(info, /^lib(stdc\+\+|c\+\+)\.so/);
  if (stdcxx) evidence.push(`NEEDED ${stdcxx}`);
  const mangled = [...info.definedSymbols, ...info.undefinedSymbols].find((s) => s.startsWith('_Z'));
  if (mangled) evidence.push(`C++-mangled symbol ${mangled.length > 60 ? `${mangled.slice(0, 60)}…` : mangled}`);
  else if (info.symtabMarkers.has('\0_Z')) evidence.push('C++-mangled symbols (_Z…) in .symtab');
  const gxx = info.comment.find((c) => /GNU C\+\+|clang/.test(c) && /\+\+/.test(c));
  if (evidence.length > 0) {
    if (gxx) evidence.push(`.comment: ${gxx}`);
    return { language: 'C++', evidence, goVersion: '', goModule: '' };
  }
  // C: none of the above.
  const libc = neededMatch(info, /^libc\.so|^libc\.musl|^ld-musl/);
  evidence.push(
    libc
      ? `no Go, Rust or C++ markers; NEEDED ${info.needed.join(', ') || libc}`
      : info.interpreter
        ? `no Go, Rust or C++ markers; interpreter ${info.interpreter}`
        : 'no Go, Rust or C++ markers; statically linked',
  );
  const gcc = info.comment.find((c) => /GCC|clang/.test(c));
  if (gcc) evidence.push(`.comment: ${gcc}`);
  return { language: 'C', evidence, goVersion: '', goModule: '' };
}

/** The verdict for an ELF file at `file` (its name helps recognise runtimes' own libraries). */
export function classify(info: ElfInfo, file: string): Verdict {
  const base = path.basename(file);
  const src = sourceLanguage(info);
  const [host, hostEvidence] = info.type === 'DYN' ? nativeModuleHost(info, file) : ['', ''];
  const rt = runtimeOf(info, base);
  if (rt) {
    return {
      language: rt.language,
      runtime: rt.runtime,
      evidence: [rt.evidence, `implemented in ${src.language}: ${src.evidence.join('; ')}`],
      nativeModuleOf: '',
      goVersion: src.goVersion,
      goModule: src.goModule,
    };
  }
  return {
    language: src.language,
    runtime: host,
    evidence: host ? [hostEvidence, ...src.evidence] : src.evidence,
    nativeModuleOf: host,
    goVersion: src.goVersion,
    goModule: src.goModule,
  };
}
