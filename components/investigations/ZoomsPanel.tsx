'use client';

import { formatNs, formatNsPrecise } from '../format/time';
import type { InvestigationDetail } from './api';
import { zoomStatusTone } from '../zoom/zoomState';

/** Every zoom of the investigation: who ordered it and why, its probes, and what it emitted or lost. */
export function ZoomsBody({ zooms, window }: { zooms: InvestigationDetail['zoomList']; window: InvestigationDetail['window'] }) {
  if (zooms.length === 0) return <p className="state state--empty">No zoom was ordered for this investigation: only the always-on facts are stored.</p>;
  return (
    <div className="table-scroll">
      <table className="data-table" aria-label="Zooms">
        <thead>
          <tr>
            <th scope="col">Ordered (UTC)</th>
            <th scope="col">Status</th>
            <th scope="col">Probes</th>
            <th scope="col" className="num">
              Events
            </th>
            <th scope="col" className="num">
              Dropped
            </th>
            <th scope="col">By, why</th>
          </tr>
        </thead>
        <tbody>
          {zooms.map((z) => (
            <tr key={`${z.id}/${z.orderId ?? ''}`} className={z.eventsDropped !== '0' ? 'inv-row--sensitive' : undefined}>
              <td className="mono nowrap">
                <time title={formatNsPrecise(z.orderedAtNs)}>{formatNs(z.orderedAtNs)}</time>
              </td>
              <td>
                <span className={`badge badge--${zoomStatusTone(z.status)}`}>{z.status}</span>
                {z.reason && <div className="muted small">{z.reason}</div>}
              </td>
              <td className="mono small">
                {z.probes.join(' ')} · {z.ttlSeconds} s
              </td>
              <td className="num mono">{z.eventsEmitted}</td>
              <td className={`num mono${z.eventsDropped !== '0' ? ' bad' : ''}`}>{z.eventsDropped}</td>
              <td className="small">
                {z.requestedBy || '—'}
                {z.orderReason && <span className="muted">: {z.orderReason}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {window && (
        <p className="muted small">
          Active from {formatNs(window.startNs)} to {formatNs(window.endNs)}.
        </p>
      )}
    </div>
  );
}
