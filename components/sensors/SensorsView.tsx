'use client';

import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { ProgramView, SensorView } from '@/server/sensors/service';
import { useTRPC } from '@/components/trpc/react';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { formatDurationNs, formatNs, formatNsPrecise } from '../format/time';

/** How often the page asks again: sensors change state on their own (reconnects, drops). */
const REFRESH_MS = 5_000;
/** A sensor that sent nothing for this long is shown as idle rather than receiving. */
const FRESH_NS = 60_000_000_000n;

export function SensorsView() {
  const trpc = useTRPC();
  const list = useQuery(trpc.sensors.list.queryOptions(undefined, { refetchInterval: REFRESH_MS }));
  if (list.isPending) return <LoadingState>Loading sensors…</LoadingState>;
  if (list.isError) return <ErrorState error={list.error} what="sensors" />;
  if (list.data.sensors.length === 0) {
    return (
      <EmptyState>
        No sensor is configured and none has sent anything. Configure sensors with <code>SENSORS=name=host:port,…</code> and restart the
        cockpit.
      </EmptyState>
    );
  }
  return (
    <div className="sensor-grid">
      {list.data.sensors.map((sensor) => (
        <SensorCard key={sensor.name} sensor={sensor} />
      ))}
    </div>
  );
}

/**
 * What the cockpit knows about the link to this sensor right now: a short label for the badge,
 * the full sentence for the status field.
 */
export function describeSensorState(sensor: SensorView): { label: string; text: string; tone: 'ok' | 'warn' | 'bad' | 'muted' } {
  const { connection, stream, status, window } = sensor;
  if (connection.state === 'connected') return { label: 'connected', text: 'connected', tone: 'ok' };
  if (connection.state === 'disconnected') {
    return { label: 'disconnected', text: `disconnected${connection.lastError ? `: ${connection.lastError}` : ''}`, tone: 'bad' };
  }
  if (stream) {
    const age = BigInt(window.toNs) - BigInt(stream.lastReceivedNs);
    return age <= FRESH_NS
      ? { label: 'receiving', text: `receiving (last batch ${formatDurationNs(age)} ago)`, tone: 'ok' }
      : { label: 'idle', text: `idle (last batch ${formatDurationNs(age)} ago)`, tone: 'warn' };
  }
  if (status) return { label: 'no recent data', text: 'no batch stored in the last 24 h', tone: 'warn' };
  return sensor.configured
    ? { label: 'never heard from', text: 'never heard from (is it running and reachable?)', tone: 'bad' }
    : { label: 'unknown', text: 'unknown', tone: 'muted' };
}

/**
 * Programs not attached: `idle` on purpose (zoom programs waiting for a zoom, facts switched off
 * in the sensor's settings), `failed` otherwise — what the operator should look at.
 */
function notAttached(programs: ProgramView[]): { idle: number; failed: number } {
  const idle = programs.filter((p) => !p.attached && p.onPurpose).length;
  return { idle, failed: programs.filter((p) => !p.attached).length - idle };
}

function Field({ name, label, children }: { name: string; label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-field={name}>{children}</dd>
    </>
  );
}

function SensorCard({ sensor }: { sensor: SensorView }) {
  const state = describeSensorState(sensor);
  const s = sensor.status;
  const drops = s ? BigInt(s.droppedKernel) + BigInt(s.droppedUser) : 0n;
  const programs = notAttached(s?.programs ?? []);
  return (
    <article className="card" aria-label={`Sensor ${sensor.name}`} data-sensor={sensor.name}>
      <header className="card__header">
        <h2 className="mono">{sensor.name}</h2>
        {s && <span className={`badge ${s.mode === 'live' ? 'badge--ok' : 'badge--info'}`}>{s.mode}</span>}
        <span className={`badge badge--${state.tone}`}>{state.label}</span>
      </header>
      <dl className="facts facts--compact">
        <Field name="address" label="Address">
          <span className="mono">{sensor.address ?? '— (not configured)'}</span>
        </Field>
        <Field name="mode" label="Mode">
          {s?.mode ?? 'unknown (no status yet)'}
        </Field>
        <Field name="status" label="Status">
          {state.text}
          {sensor.connection.reconnects !== null && sensor.connection.reconnects > 0 && (
            <span className="muted"> · {sensor.connection.reconnects} reconnects</span>
          )}
        </Field>
        {s && (
          <>
            <Field name="node" label="Node">
              {s.node}
            </Field>
            <Field name="epoch" label="Epoch">
              <code>{s.epoch}</code>
            </Field>
            <Field name="kernel" label="Kernel">
              <span className="mono">{s.kernelRelease || '—'}</span>
            </Field>
            <Field name="btf" label="BTF">
              {s.btfAvailable ? 'available' : 'not available'}
            </Field>
            <Field name="programs" label="Programs attached">
              {s.programs.length === 0 ? (
                s.mode === 'replay' ? (
                  'none (replaying a recording)'
                ) : (
                  '—'
                )
              ) : (
                <details>
                  <summary>
                    {s.programsAttached} of {s.programs.length}
                    {programs.idle > 0 && <span className="muted"> ({programs.idle} idle on purpose)</span>}
                    {programs.failed > 0 && <span className="bad"> — {programs.failed} failed</span>}
                  </summary>
                  <ul className="program-list">
                    {s.programs.map((prog) => (
                      <li key={prog.name} className={prog.attached ? undefined : prog.onPurpose ? 'muted' : 'bad'}>
                        <code>{prog.name}</code> <span className="muted">{prog.attachType}</span>{' '}
                        {prog.attached ? 'attached' : prog.onPurpose ? prog.error : `not attached: ${prog.error || 'no reason given'}`}
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </Field>
            <Field name="drops" label="Drops kernel / user">
              <span className={drops > 0n ? 'bad mono' : 'mono'}>
                {s.droppedKernel} / {s.droppedUser}
              </span>
            </Field>
            <Field name="events" label="Events sent">
              <span className="mono">{s.eventsTotal}</span> <span className="muted">(last seq {s.lastSeq})</span>
            </Field>
            <Field name="uptime" label="Up since">
              <time title={formatNsPrecise(s.startedAtNs)}>{formatNs(s.startedAtNs)}</time>{' '}
              <span className="muted">({formatDurationNs(s.uptimeNs)})</span>
            </Field>
            <Field name="version" label="Version">
              {s.version || '—'}
            </Field>
            {s.recording && (
              <Field name="recording" label="Recording">
                <code>{s.recording}</code>
              </Field>
            )}
          </>
        )}
        <Field name="last-stored-seq" label="Last stored seq">
          <span className="mono">{sensor.lastStoredSeq ?? '—'}</span>
          {sensor.stream && (
            <span className="muted">
              {' '}
              (epoch {sensor.stream.lastEpoch}, {sensor.stream.events} events in {sensor.stream.batches} batches, 24 h)
            </span>
          )}
        </Field>
      </dl>
      {s && (
        <p className="muted small">
          Status {s.source === 'live' ? 'asked just now' : `as last stored, ${formatNs(s.observedAtNs)} UTC`}.
        </p>
      )}
      <SensorGaps name={sensor.name} />
    </article>
  );
}

function SensorGaps({ name }: { name: string }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.sensors.status.queryOptions({ name }, { refetchInterval: REFRESH_MS }));
  return (
    <section aria-label={`Gaps and drops of ${name}`}>
      <h3>Gaps and drops (24 h)</h3>
      {detail.isPending ? (
        <LoadingState>Loading gaps…</LoadingState>
      ) : detail.isError ? (
        <ErrorState error={detail.error} what={`gaps of ${name}`} />
      ) : detail.data.gaps.length === 0 ? (
        <EmptyState>No gaps or drops recorded.</EmptyState>
      ) : (
        <>
          <table className="data-table" aria-label={`Gaps of ${name}`}>
            <thead>
              <tr>
                <th scope="col">When (UTC)</th>
                <th scope="col">Kind</th>
                <th scope="col">Events</th>
                <th scope="col">Seq</th>
                <th scope="col">Epoch</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {detail.data.gaps.map((g, i) => (
                <tr key={`${g.epoch}:${g.tsNs}:${g.kind}:${i}`}>
                  <td className="mono nowrap">
                    <time title={formatNsPrecise(g.tsNs)}>{formatNs(g.tsNs)}</time>
                  </td>
                  <td>{g.kind.replaceAll('_', ' ')}</td>
                  <td className="mono num">{g.count}</td>
                  <td className="mono nowrap">
                    {g.fromSeq}–{g.toSeq}
                  </td>
                  <td className="mono">{g.epoch}</td>
                  <td>{g.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {detail.data.gapsTruncated && <p className="muted">Only the newest {detail.data.gaps.length} are shown.</p>}
        </>
      )}
    </section>
  );
}
