'use client';

import { useEffect, useRef, type CSSProperties } from 'react';
import { init, type ChartOption, type ECharts } from './echarts';

/** A click on a data item: `data` is the item as given in the option (with any extra fields). */
export interface ChartClick {
  data: unknown;
}

export interface EChartProps {
  option: ChartOption;
  onItemClick?: (event: ChartClick) => void;
  /** Text alternative for the canvas (the data should also be rendered as text nearby). */
  ariaLabel: string;
  className?: string;
  style?: CSSProperties;
}

/**
 * One ECharts instance bound to a div: created on mount, resized whenever its container changes
 * size (not only the window), disposed on unmount so no canvas or listener outlives the page.
 */
export function EChart({ option, onItemClick, ariaLabel, className, style }: EChartProps) {
  const elementRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<ECharts | null>(null);
  const clickRef = useRef(onItemClick);
  clickRef.current = onItemClick;

  useEffect(() => {
    const element = elementRef.current;
    if (!element) return;
    const chart = init(element, 'dark', { renderer: 'canvas' });
    chartRef.current = chart;
    // Read the handler through a ref: a new callback each render must not re-bind the listener.
    chart.on('click', (params) => clickRef.current?.({ data: (params as { data?: unknown }).data }));
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.dispose();
      chartRef.current = null;
    };
  }, []);

  useEffect(() => {
    // notMerge: the option is the whole truth (a node that went away must disappear).
    chartRef.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={elementRef} role="img" aria-label={ariaLabel} className={className} style={style} />;
}
