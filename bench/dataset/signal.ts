import { createHash } from 'node:crypto';
import type { Db } from '../../db/client';
import { upsertIndicators, type IndicatorRecord } from '../../db/repositories/indicators';
import { upsertInvestigation } from '../../db/repositories/investigations';
import { storeEventBatch } from '../../db/repositories/sensorStream';
import { FactKind, FactVia, type Event } from '../../sensor/gen/soc/sensor/v1/sensor';
import { emptyFact } from '../../sensor/src/kernel/decode';
import { eventBatch, eventFactory } from '../../server/trpc/testing';
import { ZoomDirectory } from '../../server/zoom/directory';
import { beaconZoomEvents } from '../../server/zoom/testing';
import type { Layout } from './noise';

/**
 * The investigations the benchmark measures, among the noise: the reference attack (uring_beacon:
 * io_uring open + read of a service-account token, then a length-prefixed frame at a steady
 * interval to one destination), written through the same path the collector uses (units of
 * sensor-shaped events: process tree, the io_uring_setup fact, the zoom's lifecycle and evidence),
 * plus the indicator and the investigation rows the detector and the zoom service would write.
 *
 * Each beacon process is a child of a noisy shell on its node, so its siblings are noise.
 */

export interface SignalSpec {
  label: string;
  frames: number;
  intervalMs: number;
}

/** From a budget-sized zoom (40 000 evidence rows) to a short one. */
export const SIGNALS: readonly SignalSpec[] = [
  { label: 'large: 20 000 frames every 100 ms (a zoom at its 50 000-event budget)', frames: 20_000, intervalMs: 100 },
  { label: 'medium: 600 frames every second', frames: 600, intervalMs: 1000 },
  { label: 'small: 60 frames every 5 s', frames: 60, intervalMs: 5000 },
];

export interface SignalInvestigation {
  id: string;
  label: string;
  node: string;
  execId: string;
  zoomId: string;
  evidenceEvents: number;
}

const S = 1_000_000_000n;
const hex24 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

export async function generateSignal(db: Db, layout: Layout, log: (line: string) => void): Promise<SignalInvestigation[]> {
  const out: SignalInvestigation[] = [];
  const directory = new ZoomDirectory();
  const nodes = layout.shape.nodes;
  for (const [k, spec] of SIGNALS.entries()) {
    const started = Date.now();
    const ni = (7 + 13 * k) % nodes;
    const node = `node-${String(ni).padStart(3, '0')}`;
    const sensor = `sensor-${node}`;
    // The shell whose family the beacon joins: a noisy process half a day before the end.
    const shellIndex = Math.max(0, Math.floor(layout.processesPerNode / 2) - (Math.floor(layout.processesPerNode / 2) % 10) - 10 * k);
    const shellExec = `${node}:0a1b2c3d:${1_000_000_000 + shellIndex * 1000}:${1000 + shellIndex}:1`;
    const pid = 900_000 + k;
    const execId = `${node}:0a1b2c3d:${9_000_000_000_000 + k}:${pid}:1`;
    const t0 = layout.shape.endNs - BigInt(k + 2) * 3600n * S;
    const ev = eventFactory(node, t0 - 60n * S);
    const id = hex24(`bench-signal-${k}`);
    const zoomId = `z-bench-signal-${k}`;
    const indicatorTs = ev.ns(30_000);
    const fact: Event = {
      seq: '0', tsNs: indicatorTs, node, execId, pid, tid: pid,
      body: { $case: 'fact', value: { ...emptyFact(), workload: 'k8s/prod/deployment/metrics-agent', kind: FactKind.FACT_KIND_SYSCALL, name: 'io_uring_setup', number: 425, via: FactVia.FACT_VIA_SYSCALL, abi: 'x86_64' } },
    };
    const epoch = `bench-signal-${k}`;
    await storeEventBatch(
      db,
      eventBatch(sensor, epoch, 1, [
        ev.exec(execId, shellExec, pid, 1000 + shellIndex, 1000, '/opt/metrics/uring_beacon', ['/opt/metrics/uring_beacon', '--connect', '10.0.3.7:4444'], { containerId: 'b3acon0000' + k }),
        fact,
        ev.exec(`${node}:0a1b2c3d:${9_000_000_100_000 + k}:${pid + 10}:1`, execId, pid + 10, pid, 31_000, '/bin/sh', ['sh', '-c', 'id']),
      ]),
      t0,
    );
    const indicator: IndicatorRecord = {
      id: hex24(`bench-signal-indicator-${k}`), tsNs: indicatorTs, lastSeenNs: indicatorTs, count: '1', node, execId, lastExecId: execId, execIds: [execId],
      workload: 'k8s/prod/deployment/metrics-agent', workloadKind: 'deployment', executable: '/opt/metrics/uring_beacon', kind: 'syscall', value: 'io_uring_setup',
      severity: 'high', deviation: true, rules: ['io_uring-first-use'], profileVersion: 3, profileStatus: 'completed',
      sentence: 'First syscall io_uring_setup by uring_beacon in metrics-agent.', explanation: '{}', state: 'open', updatedAtNs: indicatorTs, rowVersion: '1',
    };
    await upsertIndicators(db, [indicator]);
    const createdAt = (BigInt(indicatorTs) + 5_000_000n).toString();
    await upsertInvestigation(db, {
      id, title: 'io_uring_setup by uring_beacon in metrics-agent', status: 'open', trigger: 'auto', createdAtNs: createdAt, updatedAtNs: createdAt,
      createdBy: 'zoom policy', indicatorIds: [indicator.id], node, workload: indicator.workload, execId,
      rowVersion: '1',
    });
    directory.remember(zoomId, id);
    const events = beaconZoomEvents({
      node, execId, pid, zoomId, investigationId: id, t0Ns: t0,
      tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token', token: 'eyJhbGciOiJSUzI1NiJ9.bench-not-a-token\n', binary: '/opt/metrics/uring_beacon',
      destination: { address: '10.0.3.7', port: 4444 }, frames: spec.frames, intervalMs: spec.intervalMs, payload: 'exfil:t0ken-bytes',
    });
    await storeEventBatch(db, eventBatch(sensor, epoch, 10, events), t0, directory);
    out.push({ id, label: spec.label, node, execId, zoomId, evidenceEvents: events.length });
    log(`signal ${k} (${spec.label}): investigation ${id}, ${events.length} zoom events, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return out;
}
