/**
 * Code fingerprints on real ELF files, built here from sources in every language this machine
 * has a compiler for (gcc, g++, rustc, go), plus node's own binary. A toolchain that is missing
 * skips its case with the reason.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeKind } from '../../gen/soc/sensor/v1/sensor';
import { CodeFingerprinter, parseExecMappings } from './fingerprint';

/** A tool on PATH or in the usual per-user places (rustup installs into ~/.cargo/bin). */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), path.join(os.homedir(), '.cargo/bin'), '/root/.cargo/bin', '/usr/lib/go/bin', '/usr/local/go/bin'];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

const gcc = findTool('gcc');
const gxx = findTool('g++');
const rustc = findTool('rustc');
const go = findTool('go');

let dir: string;
const fp = new CodeFingerprinter();
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const buildId = (f: string) => /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', f], { encoding: 'utf8' }))?.[1] ?? '';
const exe = (file: string) => fp.fingerprint({ path: file, readFrom: [file], executable: true, mappedAtNs: '1' });
const lib = (file: string) => fp.fingerprint({ path: file, readFrom: [file], executable: false, mappedAtNs: '1', mapAddress: '4096' });

function build(what: string, cmd: string, args: string[], env: Record<string, string> = {}): void {
  execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, timeout: 120_000 });
  expect(existsSync(path.join(dir, what)), `${what} built`).toBe(true);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'soc-code-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('code fingerprints of real ELF files', () => {
  it.skipIf(!gcc)(`C (gcc): language C, build id and sha256 of the file${gcc ? '' : ' — gcc missing'}`, async () => {
    writeFileSync(path.join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
    build('hello-c', gcc!, ['-O2', '-o', 'hello-c', 'hello.c']);
    const f = await exe(path.join(dir, 'hello-c'));
    expect(f).toMatchObject({ language: 'C', runtime: '', kind: CodeKind.CODE_KIND_EXECUTABLE, sha256: sha(path.join(dir, 'hello-c')), error: '' });
    expect(f.buildId).toBe(buildId(path.join(dir, 'hello-c')));
    expect(f.buildId).toMatch(/^[0-9a-f]{40}$/);
    expect(f.evidence[0]).toMatch(/no Go, Rust or C\+\+ markers; NEEDED libc\.so\.6/);
  });

  it.skipIf(!gxx)(`C++ (g++): libstdc++ and mangled names${gxx ? '' : ' — g++ missing'}`, async () => {
    writeFileSync(path.join(dir, 'hello.cc'), '#include <iostream>\n#include <string>\nint main() { std::string s = "hi"; std::cout << s << std::endl; }\n');
    build('hello-cc', gxx!, ['-O2', '-o', 'hello-cc', 'hello.cc']);
    const f = await exe(path.join(dir, 'hello-cc'));
    expect(f.language).toBe('C++');
    expect(f.evidence).toContain('NEEDED libstdc++.so.6');
    expect(f.evidence.some((e) => e.startsWith('C++-mangled symbol _Z'))).toBe(true);
  });

  it.skipIf(!rustc)(`Rust (rustc): compiler ident and panic machinery${rustc ? '' : ' — rustc missing'}`, async () => {
    writeFileSync(path.join(dir, 'hello.rs'), 'fn main() { let v: Vec<u32> = std::env::args().map(|a| a.len() as u32).collect(); println!("{}", v[0]); }\n');
    build('hello-rs', rustc!, ['-O', '-o', 'hello-rs', 'hello.rs']);
    const f = await exe(path.join(dir, 'hello-rs'));
    expect(f.language).toBe('Rust');
    expect(f.evidence.join('\n')).toMatch(/rustc|rust_panic|__rust_|\/rustc\//);
    // Stripped: the standard library's panic locations still say Rust.
    build('hello-rs-stripped', rustc!, ['-O', '-C', 'strip=symbols', '-o', 'hello-rs-stripped', 'hello.rs']);
    expect((await exe(path.join(dir, 'hello-rs-stripped'))).language).toBe('Rust');
  });

  it.skipIf(!go)(`Go (go build): build info with Go version and module path${go ? '' : ' — go missing (Debian golang-go)'}`, async () => {
    const src = path.join(dir, 'goprobe');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'go.mod'), 'module example.com/zoomprobe\n\ngo 1.19\n');
    writeFileSync(path.join(src, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n');
    execFileSync(go!, ['build', '-o', path.join(dir, 'hello-go'), '.'], {
      cwd: src,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
      env: { ...process.env, HOME: dir, GOPATH: path.join(dir, 'gopath'), GOCACHE: path.join(dir, 'gocache'), GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
    });
    const f = await exe(path.join(dir, 'hello-go'));
    const version = execFileSync(go!, ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, HOME: dir, GOCACHE: path.join(dir, 'gocache') } }).trim();
    expect(f).toMatchObject({ language: 'Go', goVersion: version, goModule: 'example.com/zoomprobe' });
    expect(f.evidence[0]).toContain(`.go.buildinfo: ${version}, module example.com/zoomprobe`);
    expect(f.buildId).not.toBe(''); // the Go build id note (no GNU build id without cgo)
  }, 300_000);

  it("node's own binary: a JavaScript runtime", async () => {
    const f = await exe(process.execPath);
    expect(f).toMatchObject({ language: 'JavaScript', runtime: 'node', kind: CodeKind.CODE_KIND_EXECUTABLE });
    expect(f.evidence[0]).toMatch(/Node\.js runtime/);
    expect(f.evidence[1]).toMatch(/^implemented in C\+\+/);
    expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);

  it.skipIf(!gcc)('a plain shared object, and a native module for node (imports Node-API)', async () => {
    writeFileSync(path.join(dir, 'plain.c'), 'int plain_add(int a, int b) { return a + b; }\n');
    build('libplain.so', gcc!, ['-shared', '-fPIC', '-O2', '-o', 'libplain.so', 'plain.c']);
    const so = await lib(path.join(dir, 'libplain.so'));
    expect(so).toMatchObject({ language: 'C', runtime: '', kind: CodeKind.CODE_KIND_SHARED_OBJECT, mapAddress: '4096' });

    // What `node-gyp` makes of a C addon: undefined napi_* symbols resolved by the node binary.
    writeFileSync(
      path.join(dir, 'addon.c'),
      'typedef void *napi_env, *napi_value;\nextern int napi_create_uint32(napi_env, unsigned, napi_value *);\n' +
        'napi_value addon_init(napi_env env, napi_value exports) { napi_value v; napi_create_uint32(env, 42, &v); return v; }\n',
    );
    build('probe.node', gcc!, ['-shared', '-fPIC', '-O2', '-o', 'probe.node', 'addon.c']);
    const mod = await lib(path.join(dir, 'probe.node'));
    expect(mod).toMatchObject({ language: 'C', runtime: 'node', kind: CodeKind.CODE_KIND_NATIVE_MODULE });
    expect(mod.evidence[0]).toBe('imports Node-API (napi_create_uint32)');
  });

  it.skipIf(!existsSync('/usr/bin/python3'))('python3: a CPython interpreter', async () => {
    const f = await exe('/usr/bin/python3');
    expect(f).toMatchObject({ language: 'Python', runtime: 'cpython' });
  });

  it('not an ELF file: unknown, with the reason; unreadable: the error', async () => {
    writeFileSync(path.join(dir, 'script.sh'), '#!/bin/sh\necho hi\n');
    const f = await exe(path.join(dir, 'script.sh'));
    expect(f.language).toBe('unknown');
    expect(f.evidence[0]).toMatch(/^not an ELF file/);
    const missing = await exe(path.join(dir, 'nope'));
    expect(missing.error).toMatch(/^cannot read: .*ENOENT/);
  });

  it.skipIf(!gcc)('caches verdicts by sha256: a copy elsewhere is not classified again', async () => {
    const a = path.join(dir, 'hello-c');
    if (!existsSync(a)) return;
    const b = path.join(dir, 'copy-of-hello-c');
    copyFileSync(a, b);
    const before = fp.stats.classified;
    const f = await exe(b);
    expect(f.cached).toBe(true);
    expect(f.path).toBe(b);
    expect(fp.stats.classified).toBe(before);
  });
});

describe('/proc/PID/maps', () => {
  it('lists executable mappings with paths, anonymous ones, and deleted files; not the kernel ones', () => {
    const maps = [
      '55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234 /usr/bin/prog',
      '55d0c0a01000-55d0c0a02000 r-xp 00001000 fd:01 1234 /usr/bin/prog',
      '7f0000000000-7f0000100000 r-xp 00028000 fd:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f0000200000-7f0000201000 rwxp 00000000 00:00 0 ',
      '7f0000300000-7f0000301000 r-xp 00001000 00:1a 77 /tmp/gone.so (deleted)',
      '7ffd1e5f0000-7ffd1e5f2000 r-xp 00000000 00:00 0                          [vdso]',
    ].join('\n');
    expect(parseExecMappings(maps)).toEqual([
      { start: '55d0c0a01000', end: '55d0c0a02000', offset: 0x1000n, inode: 1234n, path: '/usr/bin/prog', deleted: false },
      { start: '7f0000000000', end: '7f0000100000', offset: 0x28000n, inode: 99n, path: '/usr/lib/x86_64-linux-gnu/libc.so.6', deleted: false },
      { start: '7f0000200000', end: '7f0000201000', offset: 0n, inode: 0n, path: '', deleted: false },
      { start: '7f0000300000', end: '7f0000301000', offset: 0x1000n, inode: 77n, path: '/tmp/gone.so', deleted: true },
    ]);
  });
});
