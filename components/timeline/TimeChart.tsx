'use client';

import { EChart } from '@/components/charts/EChart';
// Registers the time charts' ECharts modules (series, brush, grid) before any chart is made.
import './charts';
import type { TimeChartOption } from './charts';

export interface TimeChartProps {
  option: TimeChartOption;
  /** Text alternative for the canvas (the data is also on the page as text). */
  ariaLabel: string;
  className?: string;
  /** A click on a data item: the item as given in the option. */
  onItemClick?: (data: unknown) => void;
  /** When set, dragging across the chart selects an x range (axis values, ms); see EChart. */
  onBrush?: (startMs: number, endMs: number) => void;
  testId?: string;
}

/**
 * A chart of the investigation page: the shared EChart component, with the time charts' ECharts
 * modules registered and their option type.
 */
export function TimeChart({ option, ariaLabel, className, onItemClick, onBrush, testId }: TimeChartProps) {
  return (
    <EChart
      option={option}
      ariaLabel={ariaLabel}
      className={className}
      onItemClick={onItemClick ? (event) => onItemClick(event.data) : undefined}
      onBrush={onBrush}
      testId={testId}
    />
  );
}
