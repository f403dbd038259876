export { scoreColor, diffColor, inkOn, SCORE_STOPS, SCORE_STOP_HEX, DIFF_STOPS, DIFF_STOP_HEX, MISSING_FILL, MISSING_STROKE, heatmapLayout, type HeatmapCellRef, type HeatmapScale, type HeatmapLayout } from '@ctxlab/contracts';
export { fmtInt, fmtNum, fmtBytes, fmtDate, fmtDuration, fmtSci, fmtCompact, contextLabel, depthPercent } from './format';
export { Heatmap, type HeatmapProps } from './Heatmap';
export { HeatmapExplorer, type HeatmapExplorerProps, type HeatmapCellDetail } from './HeatmapExplorer';
export { LineageGraph, layoutLineage, LINEAGE_KIND_COLORS, type LineageGraphProps, type LineageNode, type LineageEdge } from './LineageGraph';
export { DataTable, type Column, type DataTableProps } from './DataTable';
export { LineChart, type LineChartProps, type LineSeries } from './LineChart';
export { Tags, KeyValues, StatusBadge, ProgressBar, ProgressLine, EmptyState, ErrorState, Spinner, type ProgressProps } from './bits';
export { BarChart, niceCeil, type BarChartProps, type BarSeries } from './BarChart';
