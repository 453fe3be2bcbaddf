import { describe, expect, it } from 'vitest';
import { codeProvenance, isSystemLibrary } from './codeProvenance';
import { code } from './testkit';

const node = code({ path: '/usr/local/bin/node', kind: 'executable', language: 'javascript', languageEvidence: ['V8 and libuv symbols'], runtime: { name: 'node', version: 'v20.11.1' } });
const rustAddon = code({ path: '/app/node_modules/fast-hash/build/Release/hash.node', kind: 'native_module', language: 'rust', languageEvidence: ['rustc 1.76.0 in .comment'] });
const bcrypt = code({ path: '/app/node_modules/bcrypt/lib/binding/napi-v3/bcrypt_lib.node', kind: 'native_module', language: 'cpp', languageEvidence: ['GCC 12.2.0 in .comment', 'libstdc++ symbols'] });
const goAddon = code({ path: '/app/node_modules/turbo-x/x.node', kind: 'native_module', language: 'go', languageEvidence: ['Go build info go1.22.1'] });
const libc = code({ path: '/usr/lib/x86_64-linux-gnu/libc.so.6', kind: 'shared_object', language: 'c', languageEvidence: ['glibc'] });
const libnode = code({ path: '/opt/node/lib/libnode.so.115', kind: 'shared_object', language: 'cpp', languageEvidence: [] });

describe('code provenance', () => {
  it('names the language of the module the evidence points to, and how unusual it is', () => {
    const v = codeProvenance({ executable: node, modules: [libc, bcrypt, rustAddon], responsible: { modulePath: rustAddon.path, tid: 4242 } });
    expect(v).toMatchObject({ workloadLanguage: 'javascript', workloadRuntime: 'node v20.11.1', language: 'rust', differs: true, commonness: 'uncommon' });
    expect(v.reason).toBe(
      'native module /app/node_modules/fast-hash/build/Release/hash.node is Rust (rustc 1.76.0 in .comment) inside a JavaScript runtime (node v20.11.1); Rust addons exist (napi-rs: @swc/core, lightningcss) but are uncommon in Node apps',
    );
    expect(v.responsible?.fingerprintId).toBe(rustAddon.id);
  });

  it('calls a C++ addon in a JavaScript app different but common', () => {
    const v = codeProvenance({ executable: node, modules: [bcrypt], responsible: { modulePath: bcrypt.path } });
    expect([v.language, v.differs, v.commonness]).toEqual(['cpp', true, 'common']);
    expect(v.reason).toBe(
      'native module /app/node_modules/bcrypt/lib/binding/napi-v3/bcrypt_lib.node is C++ (GCC 12.2.0 in .comment; libstdc++ symbols) inside a JavaScript runtime (node v20.11.1); C/C++ addons (bcrypt, sharp, better-sqlite3) are common in Node apps',
    );
  });

  it('calls Go code in a JavaScript app rare', () => {
    expect(codeProvenance({ executable: node, modules: [goAddon], responsible: { modulePath: goAddon.path } }).commonness).toBe('rare');
  });

  it('attributes activity of the executable itself to the workload', () => {
    const v = codeProvenance({ executable: node, modules: [rustAddon], responsible: { modulePath: node.path } });
    expect(v).toMatchObject({ language: 'javascript', differs: false, commonness: 'same', responsible: null });
    expect(v.reason).toBe("the activity comes from the executable itself (/usr/local/bin/node): a JavaScript runtime (node v20.11.1), the workload's own code or runtime");
  });

  it('lists candidates, rarest first, when the evidence does not say', () => {
    const v = codeProvenance({ executable: node, modules: [libc, libnode, bcrypt, rustAddon, goAddon] });
    expect(v.responsible).toBeNull();
    expect(v.candidates.map((c) => [c.path, c.commonness])).toEqual([
      [goAddon.path, 'rare'],
      [rustAddon.path, 'uncommon'],
      [bcrypt.path, 'common'],
    ]);
    expect(v.reason).toMatch(/^the evidence does not say which code did it; 3 of 5 mapped modules are in another language: native module \/app\/node_modules\/turbo-x\/x\.node is Go \(Go build info go1\.22\.1\) inside a JavaScript runtime \(node v20\.11\.1\); Go code built as a Node addon is rare; native module .*hash\.node is Rust .*; …$/);
  });

  it('says when the module pointed to was not fingerprinted', () => {
    const v = codeProvenance({ executable: node, modules: [], responsible: { modulePath: '/tmp/.x/loader.so' } });
    expect(v.reason).toBe('the evidence points to /tmp/.x/loader.so, which was not fingerprinted; none of the 0 mapped modules is in another language than the workload (system libraries aside)');
  });

  it('treats C and C++ as one family in native programs, and Rust there as uncommon', () => {
    const nginx = code({ path: '/usr/sbin/nginx', kind: 'executable', language: 'c', languageEvidence: ['GCC'] });
    const cppModule = code({ path: '/etc/nginx/modules/ngx_x.so', kind: 'shared_object', language: 'cpp', languageEvidence: ['libstdc++'] });
    const rustModule = code({ path: '/etc/nginx/modules/ngx_rust.so', kind: 'shared_object', language: 'rust', languageEvidence: ['rustc'] });
    expect(codeProvenance({ executable: nginx, modules: [cppModule], responsible: { modulePath: cppModule.path } })).toMatchObject({ differs: false, commonness: 'same' });
    const v = codeProvenance({ executable: nginx, modules: [rustModule], responsible: { modulePath: rustModule.path } });
    expect(v).toMatchObject({ differs: true, commonness: 'uncommon' });
    expect(v.reason).toBe('shared object /etc/nginx/modules/ngx_rust.so is Rust (rustc) inside a C program (/usr/sbin/nginx); Rust libraries in a C/C++ program are uncommon');
  });

  it('knows other ecosystems', () => {
    const python = code({ path: '/usr/bin/python3.12', kind: 'executable', language: 'python', languageEvidence: [], runtime: { name: 'python', version: '3.12.3' } });
    const pyo3 = code({ path: '/app/.venv/lib/python3.12/site-packages/pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so', kind: 'native_module', language: 'rust', languageEvidence: ['rustc'] });
    expect(codeProvenance({ executable: python, modules: [pyo3], responsible: { modulePath: pyo3.path } }).commonness).toBe('common');
    const goBinary = code({ path: '/ko-app/server', kind: 'executable', language: 'go', languageEvidence: ['Go build info'] });
    const cgo = code({ path: '/app/libsqlite3.so', kind: 'shared_object', language: 'c', languageEvidence: [] });
    expect(codeProvenance({ executable: goBinary, modules: [cgo], responsible: { modulePath: cgo.path } }).commonness).toBe('uncommon');
    const unknown = code({ path: '/app/blob.so', kind: 'shared_object', language: 'unknown', languageEvidence: [] });
    expect(codeProvenance({ executable: node, modules: [unknown], responsible: { modulePath: unknown.path } })).toMatchObject({ differs: false, commonness: 'unknown' });
  });

  it('recognises system and runtime libraries', () => {
    expect(isSystemLibrary('/usr/lib/x86_64-linux-gnu/libssl.so.3')).toBe(true);
    expect(isSystemLibrary('/opt/node/lib/libnode.so.115')).toBe(true);
    expect(isSystemLibrary('/usr/local/lib/python3.12/lib-dynload/_ssl.cpython-312.so')).toBe(false);
    expect(isSystemLibrary('/app/node_modules/x/y.node')).toBe(false);
  });
});
