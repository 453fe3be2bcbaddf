'use client';

import type { EChartsCoreOption } from 'echarts/core';
import { useEffect, useRef, type CSSProperties } from 'react';
import { init, type ECharts } from './echarts';

/** A click on a data item: `data` is the item as given in the option (with any extra fields). */
export interface ChartClick {
  data: unknown;
}

export interface EChartProps {
  /**
   * The whole chart. Its series and components must be registered (components/charts/echarts.ts
   * for the process tree, components/timeline/charts.ts for the investigation page's charts).
   */
  option: EChartsCoreOption;
  onItemClick?: (event: ChartClick) => void;
  /**
   * When set, dragging across the chart selects an x range (axis values) instead of nothing: the
   * brush cursor is on from the start, no toolbox button to find first; the brush clears itself
   * after reporting (the caller redraws with the range). Needs the brush module registered.
   */
  onBrush?: (start: number, end: number) => void;
  /** Text alternative for the canvas (the data should also be rendered as text nearby). */
  ariaLabel: string;
  className?: string;
  style?: CSSProperties;
  testId?: string;
}

interface BrushEndEvent {
  areas?: Array<{ coordRange?: unknown }>;
}

/**
 * One ECharts instance bound to a div: created on mount, resized whenever its container changes
 * size (not only the window), disposed on unmount so no canvas or listener outlives the page.
 */
export function EChart({ option, onItemClick, onBrush, ariaLabel, className, style, testId }: EChartProps) {
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
    chart.on('click', (params) => clickRef.current?.({ data: (params as { data?: unknown }).data }));
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
    // notMerge: the option is the whole truth (a node, lane or point that went away must disappear).
    chart.setOption(option, { notMerge: true });
    if (brushable) chart.dispatchAction({ type: 'takeGlobalCursor', key: 'brush', brushOption: { brushType: 'lineX', brushMode: 'single' } });
  }, [option, brushable]);

  return <div ref={elementRef} role="img" aria-label={ariaLabel} className={className} style={style} data-testid={testId} />;
}
