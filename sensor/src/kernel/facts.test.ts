import { describe, expect, it } from 'vitest';
import { Direction, FactKind, FactVia, type Event } from '../../gen/soc/sensor/v1/sensor';
import { emptyFact, formatAddress, RecordDecoder } from './decode';
import { CountersTracker, encodeFactsConfig, encodeProbeTables, FirstSeenFilter, resolveFactsOptions } from './facts';
import { ACTIVITY_COUNTERS, EXEC_COUNTERS, EXEC_KEY, FACTS_CONFIG, FactsEnabled, PATH_FILTER, PATH_PROBE, PATH_PROBE_KEY } from './layout';
import { DEFAULT_PATH_CLASSES } from './paths';

const decoder = new RecordDecoder({ node: 'n', boot: 'b', wallOffsetNs: 0n });
const execIdAt = (b: Buffer, o: number) => decoder.execIdAt(b, o);

function key(tgid: number): Buffer {
  const k = Buffer.alloc(EXEC_KEY.size);
  k.writeBigUInt64LE(1000n + BigInt(tgid), EXEC_KEY.fields.start_boottime_ns);
  k.writeBigUInt64LE(7n, EXEC_KEY.fields.self_exec_id);
  k.writeUInt32LE(tgid, EXEC_KEY.fields.tgid);
  return k;
}

function counters(syscalls: number, connects = 0, own = false): Buffer {
  const v = Buffer.alloc(EXEC_COUNTERS.size);
  v.writeBigUInt64LE(BigInt(syscalls), ACTIVITY_COUNTERS.fields.syscalls);
  v.writeBigUInt64LE(BigInt(connects), ACTIVITY_COUNTERS.fields.connects);
  if (own) v.writeUInt32LE(1 << 15, EXEC_COUNTERS.fields.flags);
  return v;
}

/** A final counters record of image `tgid` as the kernel reports it (cumulative). */
function finalCounters(tgid: number, tsNs: string, syscalls: number): Event {
  return {
    seq: '0',
    tsNs,
    node: 'n',
    execId: execIdAt(key(tgid), 0),
    pid: tgid,
    tid: tgid,
    body: {
      $case: 'counters',
      value: { sinceNs: '0', syscalls: String(syscalls), ioUringSubmissions: '0', ioUringSetups: '0', connects: '0', sendsAddressed: '0', accepts: '0', opens: '0', sensitiveOpens: '0', final: true, workload: '' },
    },
  };
}

describe('CountersTracker', () => {
  it('reports what happened since the last read, only for active images', () => {
    const t = new CountersTracker('100');
    let out = t.read(Buffer.concat([key(1), key(2)]), Buffer.concat([counters(10), counters(5, 1, true)]), 2, '200', execIdAt, 'n');
    expect(out.map((e) => [e.pid, e.tsNs, e.own, e.body?.$case === 'counters' && [e.body.value.sinceNs, e.body.value.syscalls, e.body.value.connects]])).toEqual([
      [1, '200', undefined, ['100', '10', '0']],
      [2, '200', true, ['100', '5', '1']],
    ]);
    // Image 2 idle: nothing for it.
    out = t.read(Buffer.concat([key(1), key(2)]), Buffer.concat([counters(25), counters(5, 1)]), 2, '300', execIdAt, 'n');
    expect(out.map((e) => [e.pid, e.body?.$case === 'counters' && [e.body.value.sinceNs, e.body.value.syscalls]])).toEqual([[1, ['200', '15']]]);
  });

  it('turns a final record into the rest since the last read, even one read after the entry went', () => {
    const t = new CountersTracker('100');
    t.read(key(1), counters(10), 1, '200', execIdAt, 'n');
    t.read(Buffer.alloc(0), Buffer.alloc(0), 0, '300', execIdAt, 'n'); // the kernel deleted it ...
    const final = finalCounters(1, '350', 12);
    expect(t.final(final)).toBe(true); // ... and its final record arrives after that read
    expect(final.body?.$case === 'counters' && [final.body.value.syscalls, final.body.value.sinceNs, final.body.value.final]).toEqual(['2', '200', true]);
  });

  it('starts a final report at the last read before the image ended, not at a read made while its record waited', () => {
    const t = new CountersTracker('100');
    t.read(Buffer.alloc(0), Buffer.alloc(0), 0, '200', execIdAt, 'n');
    t.read(Buffer.alloc(0), Buffer.alloc(0), 0, '300', execIdAt, 'n'); // the image ended at 250, its record still in the ring
    const final = finalCounters(7, '250', 4);
    expect(t.final(final)).toBe(true);
    expect(final.body?.$case === 'counters' && [final.body.value.syscalls, final.body.value.sinceNs]).toEqual(['4', '200']);
  });

  it('restarts from zero when a re-created entry counts less than before', () => {
    const t = new CountersTracker('0');
    t.read(key(1), counters(100), 1, '1', execIdAt, 'n');
    const out = t.read(key(1), counters(3), 1, '2', execIdAt, 'n');
    expect(out[0]?.body?.$case === 'counters' && out[0].body.value.syscalls).toBe('3');
  });
});

describe('FirstSeenFilter', () => {
  const fact = (name: string) => ({ ...emptyFact(), kind: FactKind.FACT_KIND_SYSCALL, name, number: name.length, abi: 'x86_64' });

  it('admits a fact once per image, again after the image is forgotten', () => {
    const f = new FirstSeenFilter();
    expect(f.admit('a', fact('read'))).toBe(true);
    expect(f.admit('a', fact('read'))).toBe(false);
    expect(f.admit('b', fact('read'))).toBe(true);
    f.forget('a');
    expect(f.admit('a', fact('read'))).toBe(true);
    expect(f.repeats).toBe(1);
  });

  it('stays bounded, forgetting the oldest image first', () => {
    const f = new FirstSeenFilter(3);
    f.admit('a', fact('x'));
    f.admit('a', fact('yy'));
    f.admit('b', fact('x'));
    f.admit('c', fact('x')); // over the bound: image a goes
    expect(f.facts).toBe(2);
    expect(f.admit('a', fact('x'))).toBe(true);
  });

  it('tells endpoints apart by direction, route, protocol, address and port', () => {
    const f = new FirstSeenFilter();
    const ep = { ...emptyFact(), kind: FactKind.FACT_KIND_ENDPOINT, address: '10.0.0.1', port: 443, protocol: 'tcp', via: FactVia.FACT_VIA_SYSCALL, direction: Direction.DIRECTION_OUTBOUND };
    expect(f.admit('a', ep)).toBe(true);
    expect(f.admit('a', { ...ep, via: FactVia.FACT_VIA_IO_URING })).toBe(true);
    expect(f.admit('a', { ...ep, port: 444 })).toBe(true);
    expect(f.admit('a', { ...ep })).toBe(false);
  });
});

describe('kernel configuration', () => {
  it('encodes facts_config from the options', () => {
    const o = resolveFactsOptions({ ioUring: false });
    const b = encodeFactsConfig(o, true);
    expect(b.length).toBe(FACTS_CONFIG.size);
    expect(b.readUInt32LE(FACTS_CONFIG.fields.enabled)).toBe(
      FactsEnabled.SYSCALLS | FactsEnabled.ENDPOINTS | FactsEnabled.FILES | FactsEnabled.COUNTERS | FactsEnabled.INBOUND,
    );
    expect(encodeFactsConfig(resolveFactsOptions({ countersIntervalMs: 0 }), false).readUInt32LE(0)).toBe(
      FactsEnabled.IO_URING | FactsEnabled.ENDPOINTS | FactsEnabled.FILES | FactsEnabled.INBOUND,
    );
    // Inbound needs its facts (endpoints) or their count (counters), and its own switch.
    expect(encodeFactsConfig(resolveFactsOptions({ inbound: false }), false).readUInt32LE(0) & FactsEnabled.INBOUND).toBe(0);
    expect(encodeFactsConfig(resolveFactsOptions({ endpoints: false, countersIntervalMs: 0, inbound: true }), false).readUInt32LE(0) & FactsEnabled.INBOUND).toBe(0);
    expect(encodeFactsConfig(resolveFactsOptions({ endpoints: false, inbound: true }), false).readUInt32LE(0) & FactsEnabled.INBOUND).toBe(FactsEnabled.INBOUND);
  });

  it('stores suffixes reversed with their bit length, and the bigrams of segments', () => {
    const t = encodeProbeTables([{ name: 'k', patterns: ['*.pem', '*/.ssh/id_*'] }]);
    const suffix = t.entries.find(([m]) => m === 'path_suffixes')!;
    expect(suffix[1].readUInt32LE(PATH_PROBE_KEY.fields.prefixlen)).toBe(32);
    expect(suffix[1].toString('latin1', 4, 8)).toBe('mep.');
    expect(suffix[2].readUInt16LE(PATH_PROBE.fields.len)).toBe(4);
    const words = (field: number, n: number) => Array.from({ length: n }, (_, i) => t.filter.readBigUInt64LE(field + i * 8));
    const bg = ('/'.charCodeAt(0) << 8) | '.'.charCodeAt(0);
    const bigrams = words(PATH_FILTER.fields.bigrams, 1024);
    expect(bigrams[bg >> 6]).toBe(1n << BigInt(bg & 63));
    expect(bigrams.filter((w) => w !== 0n)).toHaveLength(1);
    // The first-byte test before the bigram: '/' only.
    expect(words(PATH_FILTER.fields.first_bytes, 4)).toEqual([1n << BigInt('/'.charCodeAt(0)), 0n, 0n, 0n]);
  });

  it('bounds the prefilter by the longest prefix and suffix probe, and counts segment probes', () => {
    const t = encodeProbeTables(DEFAULT_PATH_CLASSES);
    // "/var/run/secrets/kubernetes.io/serviceaccount/" and "/serviceaccount/token"
    expect(t.filter.readUInt32LE(PATH_FILTER.fields.prefix_max)).toBe('/var/run/secrets/kubernetes.io/serviceaccount/'.length);
    expect(t.filter.readUInt32LE(PATH_FILTER.fields.suffix_max)).toBe('/serviceaccount/token'.length);
    expect(t.filter.readUInt32LE(PATH_FILTER.fields.segments)).toBe(3); // .config/gcloud, .azure, .ssh/id_
    const none = encodeProbeTables([{ name: 'only-suffixes', patterns: ['*.pem'] }]);
    expect(none.filter.readUInt32LE(PATH_FILTER.fields.prefix_max)).toBe(0);
    expect(none.filter.readUInt32LE(PATH_FILTER.fields.segments)).toBe(0);
    expect(none.filter.readBigUInt64LE(PATH_FILTER.fields.first_bytes)).toBe(0n);
  });
});

describe('addresses', () => {
  it.each([
    [2, [10, 0, 0, 7], '10.0.0.7'],
    [10, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [10, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1], '127.0.0.1'],
    [10, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], '2001:db8::1:0:0:1'],
    [10, [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8:1::1'],
    [10, [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0], 'fe80::1234:5678:9abc:def0'],
  ])('family %i %j -> %s', (family, bytes, text) => {
    expect(formatAddress(family, Buffer.from([...bytes, ...Array(16 - bytes.length).fill(0)]))).toBe(text);
  });
});
