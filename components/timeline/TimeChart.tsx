'use client';

import { useEffect, useRef } from 'react';
import { init, type ECharts, type TimeChartOption } from './charts';

export interface TimeChartProps {
  option: TimeChartOption;
  /** Text alternative for the canvas (the data is also on the page as text). */
  ariaLabel: string;
  className?: string;
  /** A click on a data item: the item as given in the option. */
  onItemClick?: (data: unknown) => void;
  /**
   * When set, dragging across the chart selects an x range (axis values, ms) instead of nothing:
   * the brush cursor is on from the start, no toolbox button to find first.
   */
  onBrush?: (startMs: number, endMs: number) => void;
  testId?: string;
}

interface BrushEndEvent {
  areas?: Array<{ coordRange?: unknown }>;
}

/**
 * An ECharts instance for the investigation page: created on mount, resized with its container,
 * disposed on unmount; optionally a brush along x whose end reports the range and clears itself
 * (the page redraws with the brushed range as its new window).
 */
export function TimeChart({ option, ariaLabel, className, onItemClick, onBrush, testId }: TimeChartProps) {
  const elementRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<ECharts | null>(null);
  // Handlers through refs: a new callback each render must not re-bind the listeners.
  const clickRef = useRef(onItemClick);
  clickRef.current = onItemClick;
  const brushRef = useRef(onBrush);
  brushRef.current = onBrush;
  const brushable = onBrush !== undefined;

  useEffect(() => {
    const element = elementRef.current;
    if (!element) return;
    const chart = init(element, 'dark', { renderer: 'canvas' });
    chartRef.current = chart;
    chart.on('click', (params) => clickRef.current?.((params as { data?: unknown }).data));
    chart.on('brushEnd', (params) => {
      const range = (params as BrushEndEvent).areas?.[0]?.coordRange;
      if (!Array.isArray(range) || range.length !== 2) return;
      const [start, end] = range as [number, number];
      chart.dispatchAction({ type: 'brush', areas: [] });
      brushRef.current?.(start, end);
    });
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.dispose();
      chartRef.current = null;
    };
  }, []);

  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    // notMerge: the option is the whole truth (a lane or a point that went away must disappear).
    chart.setOption(option, { notMerge: true });
    if (brushable) chart.dispatchAction({ type: 'takeGlobalCursor', key: 'brush', brushOption: { brushType: 'lineX', brushMode: 'single' } });
  }, [option, brushable]);

  return <div ref={elementRef} role="img" aria-label={ariaLabel} className={className} data-testid={testId} />;
}
