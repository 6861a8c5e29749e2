/**
 * The panel's stylesheet, added as a <style> element (the page's CSP allows inline styles for the toolkit).
 * Colors are VS Code theme variables, so the panel follows light, dark and high-contrast themes.
 */
export const PROBES_CSS = `
body { padding: 0 16px 24px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
header.probes-header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; margin: 12px 0; }
header.probes-header h1 { font-size: 1.3em; margin: 0; font-weight: 600; }
.toolbar { display: flex; flex-wrap: wrap; gap: 6px; margin-left: auto; }
.muted { color: var(--vscode-descriptionForeground); }
.backend { color: var(--vscode-descriptionForeground); flex-basis: 100%; }
.phase { text-transform: uppercase; font-size: 0.8em; letter-spacing: 0.05em; padding: 1px 6px; border-radius: 3px;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.phase.failed { background: var(--vscode-inputValidation-errorBackground); color: var(--vscode-foreground); }
.progress-row { display: flex; align-items: center; gap: 10px; margin: 6px 0; }
progress { flex: 1; max-width: 480px; height: 8px; accent-color: var(--vscode-progressBar-background); }
.current { font-family: var(--vscode-editor-font-family); }
.notes li, .warnings li { margin: 2px 0; }
.error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
.warnings summary { cursor: pointer; color: var(--vscode-editorWarning-foreground); }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; white-space: nowrap; }
th, td { padding: 3px 8px; border: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); }
th[scope=row] { text-align: left; font-weight: normal; white-space: nowrap; }
td { text-align: right; }
td.score { background: hsl(var(--hue) 55% 42% / 0.55); }
td.so-far { font-style: italic; opacity: 0.85; }
td.pending, td.skipped { color: var(--vscode-descriptionForeground); text-align: center; }
td .count { font-size: 0.75em; margin-left: 4px; color: var(--vscode-descriptionForeground); }
tr.average th, tr.average td { font-weight: 600; }
tr.reference th, tr.reference td { color: var(--vscode-descriptionForeground); }
table.heatmap td { min-width: 2.6em; text-align: center; }
.skip-reasons { margin: 2px 0 8px; padding-left: 18px; color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.heatmap-skipped p { margin: 8px 0 2px; }
table.instances td.prediction { text-align: left; max-width: 40em; overflow-wrap: anywhere; font-family: var(--vscode-editor-font-family); }
.tag { font-size: 0.75em; color: var(--vscode-descriptionForeground); }
.summary { font-size: 1.1em; margin: 8px 0; }
.threshold-row { display: flex; align-items: center; gap: 8px; }
.chart-box { max-width: 720px; }
svg.curve-chart { width: 100%; height: auto; font-family: var(--vscode-font-family); }
svg .grid { stroke: var(--vscode-panel-border, rgba(128,128,128,0.35)); stroke-width: 1; }
svg .axis-label, svg .axis-title, svg .legend { fill: var(--vscode-foreground); font-size: 11px; }
svg .threshold { stroke: var(--vscode-editorWarning-foreground); stroke-dasharray: 6 4; stroke-width: 1.5; }
svg .threshold-label { fill: var(--vscode-editorWarning-foreground); font-size: 11px; }
svg .effective { stroke: var(--vscode-charts-green); stroke-width: 1.5; }
svg .effective-label { fill: var(--vscode-charts-green); font-size: 11px; }
svg path.series, svg line.series { fill: none; stroke-width: 2; }
svg .series.reference { stroke-dasharray: 5 3; stroke-width: 1.5; }
svg .series-0 { stroke: var(--vscode-charts-blue); fill: var(--vscode-charts-blue); }
svg .series-1 { stroke: var(--vscode-charts-orange); fill: var(--vscode-charts-orange); }
svg .series-2 { stroke: var(--vscode-charts-purple); fill: var(--vscode-charts-purple); }
svg .series-3 { stroke: var(--vscode-charts-red); fill: var(--vscode-charts-red); }
svg .series-4 { stroke: var(--vscode-charts-yellow); fill: var(--vscode-charts-yellow); }
svg .series-5 { stroke: var(--vscode-charts-green); fill: var(--vscode-charts-green); }
svg .series-6 { stroke: var(--vscode-charts-foreground); fill: var(--vscode-charts-foreground); }
svg .series.comparison { stroke-width: 1.5; }
svg path.series { fill: none; }
tr.comparison th, tr.comparison td { font-style: italic; }
.comparisons { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
dl.metadata { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.metadata dt { color: var(--vscode-descriptionForeground); }
dl.metadata dd { margin: 0; overflow-wrap: anywhere; }
`;
