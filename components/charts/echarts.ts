import { TreeChart, type TreeSeriesOption } from 'echarts/charts';
import { TooltipComponent, type TooltipComponentOption } from 'echarts/components';
import { use, type ComposeOption } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

/**
 * The only ECharts modules the cockpit ships. Importing `echarts` whole costs ~1.2 MB of
 * JavaScript; core plus what is registered here is about half. Register a new chart here first.
 */
use([TreeChart, TooltipComponent, CanvasRenderer]);

export type ChartOption = ComposeOption<TreeSeriesOption | TooltipComponentOption>;
export { init, type ECharts } from 'echarts/core';
