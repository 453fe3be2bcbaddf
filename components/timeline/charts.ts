import { BarChart, CustomChart, GraphChart, ScatterChart, type BarSeriesOption, type CustomSeriesOption, type GraphSeriesOption, type ScatterSeriesOption } from 'echarts/charts';
import {
  BrushComponent,
  GridComponent,
  MarkLineComponent,
  ToolboxComponent,
  TooltipComponent,
  type BrushComponentOption,
  type GridComponentOption,
  type MarkLineComponentOption,
  type TooltipComponentOption,
} from 'echarts/components';
import { use, type ComposeOption } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

/**
 * The ECharts modules of the investigation page's time charts (timeline lanes, contact strips,
 * interval histograms, the process → service graph), registered from `echarts/core` like
 * components/charts/echarts.ts does for the process tree, so the page loads only what it draws.
 * Brushing needs the toolbox module registered (ECharts' brush builds on it) even though no
 * toolbox is shown: the page starts the brush cursor itself.
 */
use([ScatterChart, CustomChart, BarChart, GraphChart, GridComponent, TooltipComponent, BrushComponent, ToolboxComponent, MarkLineComponent, CanvasRenderer]);

export type TimeChartOption = ComposeOption<
  | ScatterSeriesOption
  | CustomSeriesOption
  | BarSeriesOption
  | GraphSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | BrushComponentOption
  | MarkLineComponentOption
>;
