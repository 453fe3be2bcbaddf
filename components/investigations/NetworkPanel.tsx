'use client';

import { useMemo } from 'react';
import type { TimeChartOption } from '@/components/timeline/charts';
import { TimeChart } from '@/components/timeline/TimeChart';
import { formatNs, formatNsPrecise } from '../format/time';
import type { Destination, NetworkView } from './api';
import { hexDump, hexToBytes } from './bytes';
import { formatBytes, formatIntervalMs, nsToMs } from './format';
import { binLabel, bucketCounts, intervalHistogram, intervalsFromContacts } from './histogram';
import { ViewLink } from './Panel';
import { viewHref, type ViewState } from './viewState';

const AXIS = { axisLabel: { color: '#8b96a8', hideOverlap: true }, axisLine: { lineStyle: { color: '#2a3441' } }, splitLine: { lineStyle: { color: '#1c2430' } } };

function destinationName(d: Destination): string {
  return d.service ?? `${d.address}:${d.port}`;
}

/** Process → service: one node for the process, one per destination, edges weighted by contacts. */
function graphOption(processLabel: string, destinations: readonly Destination[]): TimeChartOption {
  const n = destinations.length;
  return {
    backgroundColor: 'transparent',
    animation: false,
    tooltip: { show: false },
    series: [
      {
        type: 'graph',
        layout: 'none',
        roam: false,
        left: 170,
        right: 170,
        top: 20,
        bottom: 20,
        label: { show: true, color: '#d8dee9', fontFamily: 'ui-monospace, monospace', fontSize: 11, width: 160, overflow: 'truncate' },
        edgeLabel: { show: true, color: '#d8dee9', fontSize: 11, position: 'middle', backgroundColor: '#161c24', padding: [1, 5], formatter: (p: unknown) => String((p as { data?: { contacts?: number } }).data?.contacts ?? '') + ' contacts' },
        edgeSymbol: ['none', 'arrow'],
        data: [
          // Two invisible corners: layout 'none' scales the nodes' bounding box to the chart, and a
          // single destination on the process's row would give it no height.
          { name: '\u0000top', x: 0, y: -1, symbolSize: 0, itemStyle: { opacity: 0 }, label: { show: false } },
          { name: '\u0000bottom', x: 10, y: n, symbolSize: 0, itemStyle: { opacity: 0 }, label: { show: false } },
          { name: processLabel, x: 0, y: (n - 1) / 2, symbolSize: 16, itemStyle: { color: '#f5a524' }, label: { position: 'left' as const } },
          ...destinations.map((d, i) => ({
            name: destinationName(d),
            x: 10,
            y: i,
            symbolSize: 12,
            itemStyle: { color: d.findingIds.length > 0 ? '#ff6b6b' : '#4aa3ff' },
            label: { position: 'right' as const },
          })),
        ],
        links: destinations.map((d) => ({
          source: processLabel,
          target: destinationName(d),
          contacts: d.contacts,
          lineStyle: { width: Math.min(6, 1 + Math.log2(1 + d.contacts)), color: d.findingIds.length > 0 ? '#ff6b6b' : '#4c566a' },
        })),
      },
    ],
  };
}

function contactStripOption(d: Destination, fromNs: string, toNs: string, cursorNs: string | null): TimeChartOption {
  const buckets = bucketCounts(d.contactsNs, fromNs, toNs, 120);
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 36, right: 10, top: 8, bottom: 22 },
    tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'time', min: nsToMs(fromNs), max: nsToMs(toNs), ...AXIS },
    yAxis: { type: 'value', minInterval: 1, ...AXIS },
    series: [
      {
        type: 'bar',
        name: 'contacts',
        barMinWidth: 1,
        itemStyle: { color: '#4aa3ff' },
        data: buckets.map((b) => [nsToMs(b.startNs), b.count]),
        ...(cursorNs ? { markLine: { silent: true, symbol: 'none', label: { show: false }, lineStyle: { color: '#f5a524', type: 'solid' as const }, data: [{ xAxis: nsToMs(cursorNs) }] } } : {}),
      },
    ],
  };
}

function histogramOption(intervalsMs: readonly number[]): TimeChartOption {
  const bins = intervalHistogram(intervalsMs);
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 36, right: 10, top: 8, bottom: 22 },
    tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'category', data: bins.map((b) => binLabel(b.startMs, bins.at(-1)!.endMs)), ...AXIS },
    yAxis: { type: 'value', minInterval: 1, ...AXIS },
    series: [{ type: 'bar', name: 'intervals', itemStyle: { color: '#a78bfa' }, data: bins.map((b) => b.count) }],
  };
}

/** The intervals the API measured, else the ones between the contacts it sent (capped lists). */
function intervalsOf(d: Destination): number[] {
  return d.intervalsMs.length > 0 ? d.intervalsMs : intervalsFromContacts(d.contactsNs);
}

function HexView({ hex }: { hex: string }) {
  const bytes = hexToBytes(hex);
  if (!bytes) return <p className="muted small">Not hex: {hex.slice(0, 64)}</p>;
  return (
    <pre className="inv-hex" aria-label="Hex and ASCII">
      {hexDump(bytes)
        .map((l) => `${l.offset}  ${l.hex}  |${l.ascii}|`)
        .join('\n')}
    </pre>
  );
}

interface DestinationContext {
  id: string;
  state: ViewState;
  fromNs: string;
  toNs: string;
  cursorNs: string | null;
  /** selects a captured prefix's row (the URL's `row`) */
  onSelectRow: (ref: string) => void;
}

function DestinationCard({ d, id, state, fromNs, toNs, cursorNs, onSelectRow }: DestinationContext & { d: Destination }) {
  const intervals = useMemo(() => intervalsOf(d), [d]);
  const strip = useMemo(() => contactStripOption(d, fromNs, toNs, cursorNs), [d, fromNs, toNs, cursorNs]);
  const histogram = useMemo(() => histogramOption(intervals), [intervals]);
  const name = destinationName(d);
  return (
    <article className="inv-dest" data-destination={`${d.address}:${d.port}`} aria-label={`Destination ${name}`}>
      <h3>
        <span className="mono">{name}</span>{' '}
        {d.service && (
          <span className="muted small mono">
            {d.address}:{d.port}/{d.protocol}
          </span>
        )}
        {d.periodic.status === 'periodic' && <span className="badge badge--bad">beaconing</span>}
        {d.viaIoUringOnly && <span className="badge badge--warn">via io_uring only</span>}
      </h3>
      <dl className="facts facts--compact inv-dest__facts">
        <dt>Contacts</dt>
        <dd data-testid="destination-contacts">
          {d.contacts}, <time title={formatNsPrecise(d.firstNs)}>{formatNs(d.firstNs)}</time> → <time title={formatNsPrecise(d.lastNs)}>{formatNs(d.lastNs)}</time>
        </dd>
        <dt>Interval</dt>
        <dd data-testid="destination-interval">
          median {formatIntervalMs(d.intervalMedianMs)}
          {d.jitter !== null && <>, jitter {(d.jitter * 100).toFixed(1)} %</>} — <span className="muted">{d.periodic.reason}</span>
        </dd>
        <dt>Bytes</dt>
        <dd data-testid="destination-bytes">
          out {formatBytes(d.bytesOut)} ({formatBytes(d.bytesOutPerContact)} a contact), in {formatBytes(d.bytesIn)} ({formatBytes(d.bytesInPerContact)} a contact)
        </dd>
        <dt>Payload</dt>
        <dd data-testid="destination-payload">
          {d.payloadFormatLabel ? (
            <>
              <strong>{d.payloadFormatLabel}</strong> <span className="muted">— {d.payloadReason}</span>
            </>
          ) : (
            <span className="muted">no payload prefix was captured</span>
          )}
        </dd>
        <dt>Service</dt>
        <dd className="muted">{d.serviceReason}</dd>
      </dl>
      <div className="inv-dest__charts">
        <figure>
          <figcaption className="small muted">Contacts over the range</figcaption>
          <TimeChart option={strip} className="inv-minichart" ariaLabel={`Contacts to ${name} over time: ${d.contacts} contacts`} />
        </figure>
        <figure>
          <figcaption className="small muted">Intervals between contacts ({intervals.length})</figcaption>
          <TimeChart option={histogram} className="inv-minichart" ariaLabel={`Histogram of intervals to ${name}: median ${formatIntervalMs(d.intervalMedianMs)}`} />
        </figure>
      </div>
      <h4>Captured payload prefixes ({d.prefixes.length})</h4>
      {d.prefixes.length === 0 ? (
        <p className="muted small">None captured in this range.</p>
      ) : (
        <ol className="inv-prefixes">
          {d.prefixes.slice(0, 3).map((p) => (
            <li key={p.ref}>
              <ViewLink href={viewHref(id, { ...state, row: p.ref, panel: 'network' })} onNavigate={() => onSelectRow(p.ref)} className="small mono">
                {formatNsPrecise(p.tsNs)} · {p.bytes} bytes
              </ViewLink>
              <HexView hex={p.hex} />
            </li>
          ))}
          {d.prefixes.length > 3 && (
            <li className="small">
              and {d.prefixes.length - 3} more:{' '}
              {d.prefixes.slice(3, 40).map((p, i) => (
                <ViewLink key={p.ref} href={viewHref(id, { ...state, row: p.ref, panel: 'network' })} onNavigate={() => onSelectRow(p.ref)} className="mono inv-chip" title={formatNsPrecise(p.tsNs)}>
                  #{i + 4}
                </ViewLink>
              ))}
            </li>
          )}
        </ol>
      )}
    </article>
  );
}

/** Where the process talked to: the graph, then per destination its pattern and bytes. */
export function NetworkBody({ network, processLabel, ...context }: DestinationContext & { network: NetworkView; processLabel: string }) {
  const graph = useMemo(() => graphOption(processLabel, network.destinations), [processLabel, network.destinations]);
  return (
    <>
      <TimeChart option={graph} className="inv-graph" ariaLabel={`Process ${processLabel} talked to ${network.destinations.map(destinationName).join(', ')}`} />
      <table className="data-table" aria-label="Destinations">
        <thead>
          <tr>
            <th scope="col">Destination</th>
            <th scope="col" className="num">
              Contacts
            </th>
            <th scope="col">Interval</th>
            <th scope="col" className="num">
              Out
            </th>
            <th scope="col" className="num">
              In
            </th>
            <th scope="col">Payload</th>
          </tr>
        </thead>
        <tbody>
          {network.destinations.map((d) => (
            <tr key={`${d.address}:${d.port}/${d.protocol}`}>
              <td className="mono">{destinationName(d)}</td>
              <td className="num mono">{d.contacts}</td>
              <td className="mono">{formatIntervalMs(d.intervalMedianMs)}</td>
              <td className="num mono">{formatBytes(d.bytesOut)}</td>
              <td className="num mono">{formatBytes(d.bytesIn)}</td>
              <td>{d.payloadFormatLabel ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {network.destinations.map((d) => (
        <DestinationCard key={`${d.address}:${d.port}/${d.protocol}`} d={d} {...context} />
      ))}
    </>
  );
}
