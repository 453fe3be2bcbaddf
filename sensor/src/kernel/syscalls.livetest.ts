/**
 * The syscall name tables against the running kernel: every name added after the UAPI headers
 * the tables were generated from (numbers 424 and up, and x86_64's uretprobe/uprobe) must be a
 * syscall this kernel has (a __x64_sys_<name> / __ia32_sys_<name> symbol in /proc/kallsyms).
 * (Symbols do not give numbers, and the kernel keeps entry points for syscalls outside the
 * x86_64 table, so this checks names only; the numbers come from the kernel's UAPI headers.)
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { SYSCALLS_I386, SYSCALLS_X86_64, syscallName, syscallNumber } from './syscalls';

const kallsyms = '/proc/kallsyms';
const skip = os.arch() !== 'x64' ? `not x86_64 (${os.arch()})` : !existsSync(kallsyms) ? 'no /proc/kallsyms' : '';
if (skip) console.warn(`syscall table check skipped: ${skip}`);

describe.skipIf(skip !== '')('syscall tables vs the running kernel', () => {
  const symbols = new Set(
    readFileSync(kallsyms, 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[2])
      .filter((s): s is string => !!s && (s.startsWith('__x64_sys_') || s.startsWith('__ia32_'))),
  );

  it('every recent x86_64 syscall the kernel has is in the table under its name', () => {
    const recent = Object.entries(SYSCALLS_X86_64).filter(([nr]) => Number(nr) >= 424 || Number(nr) === 335 || Number(nr) === 336);
    const absent = recent.filter(([, name]) => !symbols.has(`__x64_sys_${name}`)).map(([nr, name]) => `${nr} ${name}`);
    // An older kernel lacks the newest (their numbers are never called there); a wrong name
    // in the table would be absent on every kernel, this one (6.18) included.
    if (absent.length > 0) console.warn(`kernel ${os.release()} lacks syscalls ${absent.join(', ')}`);
    expect(absent.length).toBeLessThan(recent.length);
    if (os.release().startsWith('6.18')) expect(absent).toEqual([]);
  });

  it('recent i386 syscalls share the common numbers', () => {
    for (let nr = 424; nr <= 469; nr++) {
      if (nr === 453) continue; // map_shadow_stack: x86_64 only
      if (SYSCALLS_X86_64[nr]) expect(SYSCALLS_I386[nr], `i386 ${nr}`).toBe(SYSCALLS_X86_64[nr]);
    }
  });

  it('names and numbers round-trip', () => {
    expect(syscallName(257)).toBe('openat');
    expect(syscallName(425)).toBe('io_uring_setup');
    expect(syscallNumber('io_uring_enter')).toBe(426);
    expect(syscallName(5, 'i386')).toBe('open');
    expect(syscallName(9999)).toBe('syscall_9999');
  });
});
