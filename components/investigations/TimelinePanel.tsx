'use client';

import { useMemo, useState, type FormEvent } from 'react';
import type { TimeChartOption } from '@/components/timeline/charts';
import { TimeChart } from '@/components/timeline/TimeChart';
import { formatDurationNs, formatNsPrecise, parseTimeToNs } from '../format/time';
import type { TimelineLaneName, TimelinePoint, TimelineView } from './api';
import { nsToMs } from './format';
import { brushToRange, type ViewState } from './viewState';

/** Lanes top to bottom; zooms and gaps last, so what is missing sits right under what was seen. */
export const LANES: ReadonlyArray<{ key: TimelineLaneName; label: string; color: string }> = [
  { key: 'process', label: 'Process', color: '#6b7a90' },
  { key: 'ioUring', label: 'io_uring', color: '#f5a524' },
  { key: 'network', label: 'Network', color: '#4aa3ff' },
  { key: 'files', label: 'Files', color: '#3ccf8e' },
  { key: 'zooms', label: 'Zoom windows', color: '#a78bfa' },
  { key: 'gaps', label: 'Gaps / drops', color: '#ff6b6b' },
];

interface ChartPoint {
  value: [number, number];
  lane: string;
  /** the point's text (not `label`: ECharts reads that as label options) */
  text: string;
  ref: string | null;
  tsNs: string;
  /** a bucket's last row: clicking the bucket narrows the range to it */
  endNs: string | null;
  count: number;
  symbolSize: number;
}

interface ChartWindow {
  value: [number, number, number];
  lane: string;
  text: string;
  ref: string | null;
  tsNs: string;
  count: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A point's dot grows with the rows it stands for (a bucket), logarithmically. */
function symbolSize(count: number): number {
  return Math.min(20, 7 + Math.log2(Math.max(1, count)) * 2.5);
}

function timelineOption(timeline: TimelineView, cursorNs: string | null): TimeChartOption {
  const points: ChartPoint[][] = LANES.map(() => []);
  const windows: ChartWindow[] = [];
  LANES.forEach((lane, index) => {
    for (const p of timeline.lanes[lane.key].points as TimelinePoint[]) {
      const start = nsToMs(p.tsNs);
      // Zoom windows and gaps are spans; a bucket of rows is a dot (clicking it narrows to its span).
      if (p.endNs && (lane.key === 'zooms' || lane.key === 'gaps')) windows.push({ value: [start, nsToMs(p.endNs), index], lane: lane.label, text: p.label, ref: p.ref, tsNs: p.tsNs, count: p.count });
      else points[index]!.push({ value: [start, index], lane: lane.label, text: p.label, ref: p.ref, tsNs: p.tsNs, endNs: p.endNs ?? null, count: p.count, symbolSize: symbolSize(p.count) });
    }
  });
  const tooltip = (params: unknown) => {
    const d = (params as { data?: ChartPoint | ChartWindow }).data;
    if (!d) return '';
    const rows = d.count > 1 ? ` (${d.count} rows)` : '';
    // Labels carry paths and payload text: plain text only.
    const action = d.ref ? '<br>click: select this row' : 'endNs' in d && d.endNs ? '<br>click: narrow to this bucket' : '';
    return `${escapeHtml(d.lane)}${rows}<br>${escapeHtml(d.text)}<br>${escapeHtml(formatNsPrecise(d.tsNs))}${action}`;
  };
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 110, right: 24, top: 14, bottom: 34 },
    tooltip: { trigger: 'item', confine: true, formatter: tooltip },
    brush: { xAxisIndex: 0, brushType: 'lineX', brushMode: 'single', transformable: false, throttleType: 'debounce', throttleDelay: 50, brushStyle: { color: 'rgba(74,163,255,0.18)', borderColor: '#4aa3ff' } },
    toolbox: { show: false },
    xAxis: {
      type: 'time',
      min: nsToMs(timeline.window.fromNs),
      max: nsToMs(timeline.window.toNs),
      axisLabel: { color: '#8b96a8', hideOverlap: true },
      axisLine: { lineStyle: { color: '#2a3441' } },
      splitLine: { show: true, lineStyle: { color: '#1c2430' } },
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: LANES.map((l) => l.label),
      axisLabel: { color: '#d8dee9' },
      axisLine: { lineStyle: { color: '#2a3441' } },
      splitLine: { show: true, lineStyle: { color: '#1c2430' } },
    },
    series: [
      ...LANES.map((lane, index) => ({
        type: 'scatter' as const,
        name: lane.label,
        data: points[index]!,
        symbol: lane.key === 'gaps' ? 'triangle' : 'circle',
        itemStyle: { color: lane.color, opacity: 0.85 },
        ...(index === 0 && cursorNs
          ? { markLine: { silent: true, symbol: 'none', label: { show: false }, lineStyle: { color: '#f5a524', type: 'solid' as const, width: 1.5 }, data: [{ xAxis: nsToMs(cursorNs) }] } }
          : {}),
      })),
      {
        type: 'custom' as const,
        name: 'windows',
        data: windows,
        encode: { x: [0, 1], y: 2 },
        renderItem: (params, api) => {
          const lane = api.value(2) as number;
          const start = api.coord([api.value(0), lane]);
          const end = api.coord([api.value(1), lane]);
          const height = (api.size?.([0, 1]) as number[])[1]! * 0.5;
          const color = LANES[lane]?.color ?? '#8b96a8';
          const coords = params.coordSys as unknown as { x: number; y: number; width: number; height: number };
          const x = Math.max(start[0]!, coords.x);
          const width = Math.max(2, Math.min(end[0]!, coords.x + coords.width) - x);
          return { type: 'rect', shape: { x, y: start[1]! - height / 2, width, height }, style: { fill: color, opacity: 0.45, stroke: color } };
        },
      },
    ],
  };
}

/**
 * The timeline: one lane per kind of evidence, zoom windows and sensor gaps included (missing
 * evidence is drawn, not hidden). Dragging across it narrows every panel to that range; clicking
 * a point selects its row. The same range can be typed in the form below the chart.
 */
export function TimelineBody({
  timeline,
  state,
  cursorNs,
  onRange,
  onRow,
}: {
  timeline: TimelineView;
  state: ViewState;
  /** the selected row's time: drawn as a line on every time chart of the page */
  cursorNs: string | null;
  onRange: (range: { from: string | null; to: string | null }) => void;
  onRow: (ref: string) => void;
}) {
  const option = useMemo(() => timelineOption(timeline, cursorNs), [timeline, cursorNs]);
  const narrowed = state.from !== null || state.to !== null;
  return (
    <>
      <TimeChart
        option={option}
        className="inv-timeline"
        testId="timeline-chart"
        ariaLabel="Timeline of the investigation: drag across it to narrow every panel to a time range (the lanes are summarised below as text)"
        onBrush={(start, end) => {
          const range = brushToRange(start, end);
          if (range) onRange(range);
        }}
        onItemClick={(data) => {
          const d = data as Partial<ChartPoint> | undefined;
          if (d?.ref) onRow(d.ref);
          else if (d?.tsNs && d.endNs && d.count && d.count > 1) onRange({ from: d.tsNs, to: d.endNs });
        }}
      />
      <ul className="inv-lanes" aria-label="Timeline lanes">
        {LANES.map((lane) => {
          const l = timeline.lanes[lane.key];
          return (
            <li key={lane.key} data-lane={lane.key}>
              <span className="inv-swatch" style={{ background: lane.color }} aria-hidden="true" />
              {lane.label}: <strong data-testid={`lane-total-${lane.key}`}>{l.total}</strong>
              {l.truncated && <span className="badge badge--warn">drawn in buckets</span>}
              {lane.key === 'gaps' && l.total > 0 && <span className="badge badge--bad">evidence missing</span>}
            </li>
          );
        })}
      </ul>
      <RangeForm key={`${timeline.window.fromNs}-${timeline.window.toNs}`} timeline={timeline} narrowed={narrowed} onRange={onRange} />
    </>
  );
}

/** The range as text: typed ISO times (UTC) or nanoseconds; "Whole investigation" undoes a brush. */
function RangeForm({ timeline, narrowed, onRange }: { timeline: TimelineView; narrowed: boolean; onRange: (range: { from: string | null; to: string | null }) => void }) {
  const [error, setError] = useState<string | null>(null);
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const from = parseTimeToNs(String(data.get('from') ?? ''));
    const to = parseTimeToNs(String(data.get('to') ?? ''));
    if (from === null || to === null) return setError('Times are nanoseconds or UTC date-times like 2026-11-22T10:57:03.5');
    if (BigInt(to) < BigInt(from)) return setError('The range ends before it starts');
    setError(null);
    onRange({ from, to });
  }
  const span = BigInt(timeline.window.toNs) - BigInt(timeline.window.fromNs);
  return (
    <form className="inv-range" onSubmit={submit} aria-label="Time range">
      <label>
        From (UTC)
        <input name="from" defaultValue={formatNsPrecise(timeline.window.fromNs).replace(/Z$/, '')} spellCheck={false} data-testid="range-from" />
      </label>
      <label>
        To (UTC)
        <input name="to" defaultValue={formatNsPrecise(timeline.window.toNs).replace(/Z$/, '')} spellCheck={false} data-testid="range-to" />
      </label>
      <button type="submit">Set range</button>
      <button type="button" disabled={!narrowed} onClick={() => onRange({ from: null, to: null })}>
        Whole investigation
      </button>
      <span className="muted small" data-testid="range-span">
        {narrowed ? 'Narrowed to' : 'Showing the whole investigation:'} {formatDurationNs(span)}
      </span>
      {error && (
        <span className="bad small" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
