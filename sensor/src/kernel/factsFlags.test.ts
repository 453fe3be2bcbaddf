import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFactsOptions } from './facts';
import { factsOff, FactsFlagError, readPathClasses } from './factsFlags';

const dir = mkdtempSync(path.join(os.tmpdir(), 'soc-facts-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('--facts-off', () => {
  it('switches the named facts off and leaves the rest on', () => {
    const o = resolveFactsOptions(factsOff('syscalls, files,counters'));
    expect(o).toMatchObject({ syscalls: false, files: false, countersIntervalMs: 0, ioUring: true, endpoints: true, inbound: true });
  });

  it('endpoints takes inbound with it; inbound alone keeps outbound', () => {
    expect(resolveFactsOptions(factsOff('endpoints'))).toMatchObject({ endpoints: false, inbound: false });
    expect(resolveFactsOptions(factsOff('inbound'))).toMatchObject({ endpoints: true, inbound: false });
  });

  it('an empty list switches nothing off; an unknown name is refused with the list', () => {
    expect(factsOff('')).toEqual({});
    expect(() => factsOff('syscalls,bitmap')).toThrow(FactsFlagError);
    expect(() => factsOff('bitmap')).toThrow(/unknown fact "bitmap" \(one of syscalls, io_uring, endpoints, inbound, files, counters\)/);
  });
});

describe('--path-classes', () => {
  it('reads classes in the shape of the defaults', () => {
    const f = file('ok.json', JSON.stringify([{ name: 'vault_token', patterns: ['/etc/vault/', '*vault-token*'] }]));
    expect(readPathClasses(f)).toEqual([{ name: 'vault_token', patterns: ['/etc/vault/', '*vault-token*'] }]);
  });

  it('refuses what the kernel could not use, saying where', () => {
    expect(() => readPathClasses(path.join(dir, 'missing.json'))).toThrow(/cannot read .*missing\.json/);
    expect(() => readPathClasses(file('truncated.json', '[{"name": "x", "patt'))).toThrow(/is not JSON/);
    expect(() => readPathClasses(file('empty.json', '[]'))).toThrow(/path-classes/);
    expect(() => readPathClasses(file('name.json', '[{"name": "Bad Name", "patterns": ["/x"]}]'))).toThrow(/at 0\.name: a class name is lower-case/);
    expect(() => readPathClasses(file('extra.json', '[{"name": "x", "patterns": ["/x"], "severity": 1}]'))).toThrow(/path-classes/);
    expect(() => readPathClasses(file('all.json', '[{"name": "x", "patterns": ["*"]}]'))).toThrow(/matches everything/);
    expect(() => readPathClasses(file('twice.json', '[{"name": "x", "patterns": ["/a"]}, {"name": "x", "patterns": ["/b"]}]'))).toThrow(/class "x" appears twice/);
    const many = Array.from({ length: 257 }, (_, i) => `/p${i}/`);
    expect(() => readPathClasses(file('big.json', JSON.stringify([{ name: 'x', patterns: many.slice(0, 256) }, { name: 'y', patterns: ['/q/'] }])))).toThrow(/257 prefix probes/);
  });
});
