'use client';

import { useState } from 'react';
import { KIND_LABELS, severityTone } from '../detection/inboxState';
import { formatNs, formatNsPrecise } from '../format/time';
import type { EventView, EvidenceTreeView } from './api';
import { findingTone } from './format';
import { ViewLink } from './Panel';
import { viewHref, type ViewState } from './viewState';

/** Rows listed per finding before "show all" (the rest are one click away, and on the timeline). */
const ROWS_SHOWN = 6;

const TABLE_LABELS: Record<string, string> = {
  io_uring_ops: 'io_uring',
  socket_events: 'socket',
  file_accesses: 'file',
  code_fingerprints: 'code',
  process_events: 'process',
  facts: 'fact',
  sensor_gaps: 'gap',
  zooms: 'zoom',
};

/**
 * Indicator → findings → the rows that support each finding. Every row is a link to this view
 * with `row=<ref>`: the row resolves by itself (investigations.event), whatever the range is.
 */
export function EvidenceBody({ id, tree, state, onSelectRow }: { id: string; tree: EvidenceTreeView; state: ViewState; onSelectRow: (ref: string) => void }) {
  return (
    <ul className="inv-tree" aria-label="Evidence tree">
      {tree.indicators.map((i) => (
        <li key={i.id} className="inv-tree__indicator">
          <span className={`badge badge--${severityTone(i.severity)}`}>{i.severity}</span> <strong>{KIND_LABELS[i.kind] ?? i.kind}</strong> <code>{i.value}</code>{' '}
          <span className="muted small">first seen {formatNs(i.tsNs)}</span>
        </li>
      ))}
      <li>
        <ul className="inv-tree__findings" aria-label="Findings">
          {tree.findings.length === 0 && <li className="muted">No finding yet: the analyzers found nothing in the stored evidence.</li>}
          {tree.findings.map((f) => (
            <li key={f.id} data-finding-kind={f.kind}>
              <details open={tree.findings.length <= 6}>
                <summary>
                  <span className={`badge badge--${findingTone(f.severity)}`}>{f.severity}</span> <strong>{f.title}</strong>{' '}
                  <span className="muted small">
                    ({f.rowsTotal} row{f.rowsTotal === 1 ? '' : 's'})
                  </span>
                </summary>
                <p className="small inv-tree__reason">{f.reason}</p>
                <FindingRows id={id} rows={f.rows} rowsTotal={f.rowsTotal} state={state} onSelectRow={onSelectRow} />
              </details>
            </li>
          ))}
        </ul>
      </li>
    </ul>
  );
}

type FindingRow = EvidenceTreeView['findings'][number]['rows'][number];

function FindingRows({ id, rows, rowsTotal, state, onSelectRow }: { id: string; rows: readonly FindingRow[]; rowsTotal: number; state: ViewState; onSelectRow: (ref: string) => void }) {
  // The selected row stays visible even when it is past the first few.
  const selectedIndex = rows.findIndex((r) => r.ref === state.row);
  const [all, setAll] = useState(false);
  const shown = all || selectedIndex >= ROWS_SHOWN ? rows : rows.slice(0, ROWS_SHOWN);
  return (
    <ul className="inv-tree__rows">
      {shown.map((r) => (
        <li key={r.ref} className={state.row === r.ref ? 'inv-tree__row--selected' : undefined}>
          <ViewLink href={viewHref(id, { ...state, row: r.ref, panel: 'evidence' })} onNavigate={() => onSelectRow(r.ref)} className="mono small" title={formatNsPrecise(r.tsNs)}>
            {formatNs(r.tsNs).slice(11)}
          </ViewLink>{' '}
          <span className="tag">{TABLE_LABELS[r.table] ?? r.table}</span> <span className="small">{r.summary}</span>
        </li>
      ))}
      {shown.length < rows.length && (
        <li>
          <button type="button" className="button--link small" onClick={() => setAll(true)}>
            show all {rows.length} rows listed here
          </button>
        </li>
      )}
      {rowsTotal > rows.length && <li className="muted small">and {rowsTotal - rows.length} more rows (narrow the time range on the timeline to see them there)</li>}
    </ul>
  );
}

/** The selected row, whole: every column as text. */
export function SelectedRow({ event, onClear }: { event: EventView; onClear: () => void }) {
  return (
    <section className="inv-selected" aria-labelledby="selected-row-title" data-testid="selected-row">
      <header className="inv-panel__header">
        <h2 id="selected-row-title">
          Selected row: <span className="tag">{TABLE_LABELS[event.table] ?? event.table}</span> <span className="small">{event.summary}</span>
        </h2>
        <button type="button" className="button--small" onClick={onClear} title="Esc">
          Clear
        </button>
      </header>
      <dl className="facts facts--compact inv-fields">
        <dt>Time</dt>
        <dd className="mono">{formatNsPrecise(event.tsNs)}</dd>
        <dt>Process</dt>
        <dd className="mono">{event.execId}</dd>
        {Object.entries(event.fields).map(([k, v]) => (
          <FieldRow key={k} name={k} value={v} />
        ))}
      </dl>
    </section>
  );
}

function FieldRow({ name, value }: { name: string; value: string }) {
  return (
    <>
      <dt className="mono">{name}</dt>
      <dd className="mono inv-fields__value">{value === '' ? <span className="muted">—</span> : value}</dd>
    </>
  );
}
