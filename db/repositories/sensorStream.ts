import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { nsToClickHouse } from '../time';
import type { Event, EventBatch, SensorStatus } from '../../sensor/gen/soc/sensor/v1/sensor';

/**
 * The ingest path of sensor streams. Idempotent by construction: every insert of a batch carries
 * the dedup token `${sensor}:${epoch}:${first}-${last}` (the sensor seals batch boundaries when
 * events enter its journal, so a re-sent batch has the same range), and the batch row — the
 * resume point — is written last. A crash anywhere in between makes the collector resume before
 * this batch; the re-sent copy is then dropped by the dedup window instead of doubling rows.
 */

export type SensorGapKind = 'seq_gap' | 'restart' | 'kernel_drop' | 'user_drop' | 'stream_error' | 'rejected_batch';

export interface SensorGap {
  sensor: string;
  epoch: string;
  kind: SensorGapKind;
  fromSeq: string;
  toSeq: string;
  count: string;
  tsNs: string;
  detail: string;
}

export function batchToken(batch: Pick<EventBatch, 'sensor' | 'epoch' | 'firstSeq' | 'lastSeq'>): string {
  return `${batch.sensor}:${batch.epoch}:${batch.firstSeq}-${batch.lastSeq}`;
}

/** Maps one proto event to its process_events row; null for event kinds stored elsewhere. */
export function processEventRow(event: Event, batch: Pick<EventBatch, 'sensor' | 'epoch'>): Record<string, unknown> | null {
  const base = {
    node: event.node,
    sensor: batch.sensor,
    epoch: batch.epoch,
    seq: event.seq,
    ts: nsToClickHouse(event.tsNs),
    exec_id: event.execId,
    pid: event.pid,
    tid: event.tid,
  };
  const body = event.body;
  switch (body?.$case) {
    case 'exec': {
      const e = body.value;
      return {
        ...base,
        kind: 'exec',
        parent_exec_id: e.parentExecId,
        ppid: e.ppid,
        uid: e.uid,
        gid: e.gid,
        auid: e.auid,
        binary: e.binary,
        argv: e.argv,
        argv_truncated: e.argvTruncated,
        cwd: e.cwd,
        comm: e.comm,
        cgroup_id: e.cgroupId,
        cgroup_path: e.cgroupPath,
        container_runtime: e.container?.runtime ?? '',
        container_id: e.container?.containerId ?? '',
        pod_uid: e.container?.podUid ?? '',
        pod_name: e.container?.podName ?? '',
        pod_namespace: e.container?.namespace ?? '',
        seeded: e.seeded,
        start_ts: nsToClickHouse(e.startNs !== '0' ? e.startNs : event.tsNs),
      };
    }
    case 'fork':
      return { ...base, kind: 'fork', ppid: body.value.parentPid, child_pid: body.value.childPid, start_ts: nsToClickHouse(event.tsNs) };
    case 'exit':
      return {
        ...base,
        kind: 'exit',
        exit_code: body.value.exitCode,
        exit_signal: body.value.signal,
        start_ts: nsToClickHouse(event.tsNs),
      };
    default:
      return null;
  }
}

/** Stores one batch of a sensor stream, idempotently (see the module comment). */
export async function storeEventBatch(db: Db, batch: EventBatch, receivedAtNs: bigint): Promise<void> {
  const token = batchToken(batch);
  const processRows: Record<string, unknown>[] = [];
  for (const event of batch.events) {
    const row = processEventRow(event, batch);
    if (row) processRows.push(row);
  }
  await insertRows(db, { table: 'process_events', rows: processRows, tag: 'ingest:process_events', dedupToken: token });

  const firstTs = batch.events[0]?.tsNs ?? receivedAtNs.toString();
  const lastTs = batch.events.at(-1)?.tsNs ?? firstTs;
  const gaps: SensorGap[] = [];
  // gap with nothing missing is the first batch of a new epoch: the collector records the restart.
  if (batch.gap && batch.missing !== '0') {
    const first = BigInt(batch.firstSeq);
    const missing = BigInt(batch.missing);
    gaps.push({
      sensor: batch.sensor,
      epoch: batch.epoch,
      kind: 'seq_gap',
      fromSeq: (first - missing > 0n ? first - missing : 0n).toString(),
      toSeq: (first > 0n ? first - 1n : 0n).toString(),
      count: batch.missing,
      tsNs: firstTs,
      detail: `the sensor no longer held ${batch.missing} event(s) before seq ${batch.firstSeq}`,
    });
  }
  if (batch.droppedKernel !== '0') {
    gaps.push({ ...dropGap(batch, 'kernel_drop', batch.droppedKernel, firstTs), detail: `${batch.droppedKernel} event(s) lost in the kernel ring buffer` });
  }
  if (batch.droppedUser !== '0') {
    gaps.push({ ...dropGap(batch, 'user_drop', batch.droppedUser, firstTs), detail: `${batch.droppedUser} event(s) the sensor could not queue` });
  }
  const otherDrops = BigInt(batch.dropped) - BigInt(batch.droppedKernel) - BigInt(batch.droppedUser);
  if (otherDrops > 0n) {
    gaps.push({ ...dropGap(batch, 'user_drop', otherDrops.toString(), firstTs), detail: `${otherDrops} event(s) dropped by the sensor` });
  }
  await insertRows(db, { table: 'sensor_gaps', rows: gaps.map(gapRow), tag: 'ingest:sensor_gaps', dedupToken: token });

  await insertRows(db, {
    table: 'sensor_batches',
    rows: [
      {
        sensor: batch.sensor,
        epoch: batch.epoch,
        first_seq: batch.firstSeq,
        last_seq: batch.lastSeq,
        events: batch.events.length,
        gap: batch.gap,
        missing: batch.missing,
        dropped: batch.dropped,
        dropped_kernel: batch.droppedKernel,
        dropped_user: batch.droppedUser,
        first_ts: nsToClickHouse(firstTs),
        last_ts: nsToClickHouse(lastTs),
        received_at: nsToClickHouse(receivedAtNs),
      },
    ],
    tag: 'ingest:sensor_batches',
    dedupToken: token,
  });
}

function dropGap(batch: EventBatch, kind: SensorGapKind, count: string, tsNs: string): SensorGap {
  return { sensor: batch.sensor, epoch: batch.epoch, kind, fromSeq: batch.firstSeq, toSeq: batch.lastSeq, count, tsNs, detail: '' };
}

function gapRow(gap: SensorGap): Record<string, unknown> {
  return {
    sensor: gap.sensor,
    epoch: gap.epoch,
    ts: nsToClickHouse(gap.tsNs),
    kind: gap.kind,
    from_seq: gap.fromSeq,
    to_seq: gap.toSeq,
    count: gap.count,
    detail: gap.detail,
  };
}

/** Records a gap the collector itself observed (restart, stream error, rejected batch). */
export async function recordSensorGap(db: Db, gap: SensorGap): Promise<void> {
  await insertRows(db, {
    table: 'sensor_gaps',
    rows: [gapRow(gap)],
    tag: 'ingest:sensor_gaps',
    dedupToken: `${gap.sensor}:${gap.epoch}:${gap.kind}:${gap.fromSeq}-${gap.toSeq}:${gap.tsNs}`,
  });
}

/** Where to resume a sensor's stream: its newest epoch and the last sequence number stored in it. */
export async function getResumePoint(db: Db, sensor: string): Promise<{ epoch: string; lastSeq: string } | null> {
  const rows = await selectRows<{ epoch: string; lastSeq: string }>(db, {
    sql: `SELECT epoch, max(last_seq) AS lastSeq
          FROM sensor_batches
          WHERE sensor = {sensor:String}
            AND epoch = (SELECT argMax(epoch, received_at) FROM sensor_batches WHERE sensor = {sensor:String})
          GROUP BY epoch`,
    params: { sensor },
    tag: 'ingest:resume_point',
  });
  return rows[0] ?? null;
}

export async function recordSensorStatus(db: Db, status: SensorStatus, observedAtNs: bigint): Promise<void> {
  await insertRows(db, {
    table: 'sensor_status',
    rows: [
      {
        sensor: status.sensor,
        observed_at: nsToClickHouse(observedAtNs),
        epoch: status.epoch,
        node: status.node,
        mode: status.mode,
        kernel_release: status.kernelRelease,
        btf_available: status.btfAvailable,
        version: status.version,
        events_total: status.eventsTotal,
        last_seq: status.lastSeq,
        dropped_kernel: status.droppedKernel,
        dropped_user: status.droppedUser,
        uptime_ns: status.uptimeNs,
        started_at: nsToClickHouse(status.startedAtNs),
        status_json: JSON.stringify(status),
      },
    ],
    tag: 'collector:sensor_status',
  });
}
