import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autoZoomFor, buildZoomPolicy, DEFAULT_ZOOM_POLICY, manualOrderProblems, parseDurationSeconds, ruleFor, zoomPolicy, ZoomPolicyError, type ZoomPolicy } from './policy';

describe('zoom policy: indicator kind × severity → probes, TTL, budget', () => {
  it('maps the defaults as documented', () => {
    const p = DEFAULT_ZOOM_POLICY;
    expect(ruleFor(p, 'syscall', 'high')).toMatchObject({ probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], ttlSeconds: 300, maxEvents: 50_000 });
    expect(ruleFor(p, 'io_uring_op', 'high')).toMatchObject({ probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], ttlSeconds: 300 });
    expect(ruleFor(p, 'exec', 'high')!.probes).toContain('CHILDREN');
    expect(ruleFor(p, 'endpoint', 'medium')).toMatchObject({ probes: ['NETWORK', 'CODE'], ttlSeconds: 120, maxEvents: 10_000 });
    expect(ruleFor(p, 'file', 'medium')).toMatchObject({ probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], ttlSeconds: 120 });
    expect(ruleFor(p, 'syscall', 'low')).toMatchObject({ probes: ['NETWORK', 'CODE'], ttlSeconds: 60, maxEvents: 5_000 });
  });

  it('zooms automatically only on high and critical indicators, and says why not otherwise', () => {
    const p = DEFAULT_ZOOM_POLICY;
    expect(autoZoomFor(p, { kind: 'syscall', severity: 'high' }).zoom).toMatchObject({ ttlSeconds: 300 });
    expect(autoZoomFor(p, { kind: 'file', severity: 'critical' }).zoom).toMatchObject({ ttlSeconds: 300 });
    expect(autoZoomFor(p, { kind: 'syscall', severity: 'medium' })).toEqual({ zoom: null, why: 'severity medium does not zoom automatically (autoSeverities: high, critical)' });
    expect(autoZoomFor(buildZoomPolicy({}, { ZOOM_AUTO: 'off' }), { kind: 'syscall', severity: 'high' })).toEqual({ zoom: null, why: 'automatic zoom-ins are off (ZOOM_AUTO)' });
    expect(autoZoomFor(buildZoomPolicy({ autoSeverities: ['medium', 'high'] }), { kind: 'endpoint', severity: 'medium' }).zoom).toMatchObject({ probes: ['NETWORK', 'CODE'] });
  });

  it('takes a file over the defaults, first matching rule wins, and the environment last', () => {
    const p = buildZoomPolicy(
      {
        maxTtlSeconds: 300,
        rules: [
          { kind: 'file', severity: 'high', probes: ['FILES'], ttlSeconds: 30, maxEvents: 100 },
          { probes: ['NETWORK'], ttlSeconds: 60, maxEvents: 1000 },
        ],
        manual: { ttlSeconds: 90 },
      },
      { ZOOM_MAX_TTL: '4m' },
    );
    expect(p.maxTtlSeconds).toBe(240);
    expect(ruleFor(p, 'file', 'high')).toMatchObject({ probes: ['FILES'], ttlSeconds: 30 });
    expect(ruleFor(p, 'file', 'low')).toMatchObject({ kind: '*', severity: '*', probes: ['NETWORK'] });
    expect(p.manual).toEqual({ probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], ttlSeconds: 90, maxEvents: 20_000 });
    expect(parseDurationSeconds('90', 'x')).toBe(90);
    expect(parseDurationSeconds('1h', 'x')).toBe(3600);
  });

  it('refuses invalid or inconsistent policies, naming every problem', () => {
    expect(() => buildZoomPolicy({ rules: [{ probes: ['SYSCALLS'], ttlSeconds: 0, maxEvents: 1 }] })).toThrow(ZoomPolicyError);
    expect(() => buildZoomPolicy({ rules: [{ probes: ['SYSCALLS'], ttlSeconds: 0, maxEvents: 1 }] })).toThrow(/rules\.0\.probes\.0: .*rules\.0\.ttlSeconds/);
    expect(() => buildZoomPolicy({ autoRun: true })).toThrow(/Unrecognized key/);
    expect(() => buildZoomPolicy({ maxTtlSeconds: 100 })).toThrow(/rules\[\d\] \(exec × high\): ttlSeconds 300 exceeds maxTtlSeconds 100/);
    expect(() => buildZoomPolicy({ allowedProbes: ['NETWORK'] })).toThrow(/manual: probe sets IO_URING, FILES, CODE are not in allowedProbes/);
    expect(() => buildZoomPolicy({}, { ZOOM_AUTO: 'maybe' })).toThrow(/ZOOM_AUTO must be on or off/);
    expect(() => buildZoomPolicy({}, { ZOOM_MAX_TTL: 'ten minutes' })).toThrow(/not a duration/);
  });

  it('checks manual orders against the cockpit bounds', () => {
    const p: ZoomPolicy = { ...DEFAULT_ZOOM_POLICY, allowedProbes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'] };
    expect(manualOrderProblems(p, { probes: ['NETWORK'], ttlSeconds: 600, maxEvents: 200_000 })).toEqual([]);
    expect(manualOrderProblems(p, { probes: ['NETWORK', 'CHILDREN'], ttlSeconds: 601, maxEvents: 200_001 })).toEqual([
      { path: 'probes', message: "CHILDREN not allowed by the cockpit's zoom policy (allowed: IO_URING, NETWORK, FILES, CODE)" },
      { path: 'ttlSeconds', message: "at most 600 (the cockpit's maximum zoom length)" },
      { path: 'maxEvents', message: "at most 200000 (the cockpit's maximum event budget)" },
    ]);
  });

  it('reads ZOOM_POLICY_FILE (YAML or JSON) and again when it changes; a broken file is an error, not the defaults', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-zoom-policy-'));
    try {
      const file = path.join(dir, 'policy.yaml');
      fs.writeFileSync(file, 'auto: false\nmaxTtlSeconds: 300\n');
      expect(zoomPolicy({ ZOOM_POLICY_FILE: file })).toMatchObject({ auto: false, maxTtlSeconds: 300 });
      fs.writeFileSync(file, 'auto: true\nmaxTtlSeconds: 600\npayloadPrefixBytes: 64\n');
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
      expect(zoomPolicy({ ZOOM_POLICY_FILE: file })).toMatchObject({ auto: true, payloadPrefixBytes: 64 });
      fs.writeFileSync(path.join(dir, 'p.json'), '{"maxEvents": 1000, "manual": {"maxEvents": 500}, "rules": [{"probes": ["NETWORK"], "ttlSeconds": 60, "maxEvents": 1000}]}');
      expect(zoomPolicy({ ZOOM_POLICY_FILE: path.join(dir, 'p.json') })).toMatchObject({ maxEvents: 1000 });
      fs.writeFileSync(path.join(dir, 'bad.yaml'), 'auto: [\n');
      expect(() => zoomPolicy({ ZOOM_POLICY_FILE: path.join(dir, 'bad.yaml') })).toThrow(ZoomPolicyError);
      expect(() => zoomPolicy({ ZOOM_POLICY_FILE: path.join(dir, 'missing.yaml') })).toThrow(/cannot be read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
