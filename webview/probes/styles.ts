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
svg .threshold { stroke: var(--vscode-editorWarning-foreground, #cca700); stroke-dasharray: 6 4; stroke-width: 1.5; }
svg .threshold-label { fill: var(--vscode-editorWarning-foreground, #cca700); font-size: 11px; }
svg .effective { stroke: var(--vscode-charts-green, #89d185); stroke-width: 1.5; }
svg .effective-label { fill: var(--vscode-charts-green, #89d185); font-size: 11px; }
body.vscode-high-contrast svg .effective, body.vscode-high-contrast-light svg .effective { stroke: var(--vscode-contrastActiveBorder, var(--vscode-foreground)); }
body.vscode-high-contrast svg .effective-label, body.vscode-high-contrast-light svg .effective-label { fill: var(--vscode-foreground); }
/* Every series has a color of its own in every theme kind AND a dash pattern of its own (readable without color);
   palettes per theme kind rather than the theme's chart colors, which High Contrast leaves unset and Light Modern
   makes translucent (its orange is at 33% alpha): each keeps at least 3:1 against the kind's background. */
svg path.series, svg line.series { fill: none; stroke-width: 2; }
svg line.series { stroke-width: 2.5; }
svg .series.reference, svg .series.comparison { stroke-width: 2; }
svg circle.series { stroke-dasharray: none; stroke-width: 1.5; }
svg circle.series.reference, svg circle.series.comparison { fill: var(--vscode-editor-background, transparent); }
svg .series-0 { --series-color: #3794ff; stroke: var(--series-color); fill: var(--series-color); }
svg path.series-0, svg line.series-0 { stroke-dasharray: none; }
svg .series-1 { --series-color: #d18616; stroke: var(--series-color); fill: var(--series-color); }
svg path.series-1, svg line.series-1 { stroke-dasharray: 8 4; }
svg .series-2 { --series-color: #b180d7; stroke: var(--series-color); fill: var(--series-color); }
svg path.series-2, svg line.series-2 { stroke-dasharray: 2 3; }
svg .series-3 { --series-color: #f14c4c; stroke: var(--series-color); fill: var(--series-color); }
svg path.series-3, svg line.series-3 { stroke-dasharray: 10 3 2 3; }
svg .series-4 { --series-color: #cca700; stroke: var(--series-color); fill: var(--series-color); }
svg path.series-4, svg line.series-4 { stroke-dasharray: 5 5; }
svg .series-5 { --series-color: #89d185; stroke: var(--series-color); fill: var(--series-color); }
svg path.series-5, svg line.series-5 { stroke-dasharray: 1 4; }
svg .series-6 { --series-color: #cccccc; stroke: var(--series-color); fill: var(--series-color); }
svg path.series-6, svg line.series-6 { stroke-dasharray: 12 4 4 4; }
body.vscode-light svg .series-0 { --series-color: #1a85ff; }
body.vscode-light svg .series-1 { --series-color: #c75c00; }
body.vscode-light svg .series-2 { --series-color: #652d90; }
body.vscode-light svg .series-3 { --series-color: #cd3131; }
body.vscode-light svg .series-4 { --series-color: #8a6d00; }
body.vscode-light svg .series-5 { --series-color: #388a34; }
body.vscode-light svg .series-6 { --series-color: #616161; }
body.vscode-high-contrast:not(.vscode-high-contrast-light) svg .series-0 { --series-color: #4fc1ff; }
body.vscode-high-contrast:not(.vscode-high-contrast-light) svg .series-1 { --series-color: #ffa500; }
body.vscode-high-contrast:not(.vscode-high-contrast-light) svg .series-2 { --series-color: #e38cff; }
body.vscode-high-contrast:not(.vscode-high-contrast-light) svg .series-3 { --series-color: #ff8c8c; }
body.vscode-high-contrast:not(.vscode-high-contrast-light) svg .series-4 { --series-color: #ffd700; }
body.vscode-high-contrast:not(.vscode-high-contrast-light) svg .series-5 { --series-color: #7fff7f; }
body.vscode-high-contrast:not(.vscode-high-contrast-light) svg .series-6 { --series-color: #ffffff; }
body.vscode-high-contrast-light svg .series-0 { --series-color: #0f4a85; }
body.vscode-high-contrast-light svg .series-1 { --series-color: #8f3f00; }
body.vscode-high-contrast-light svg .series-2 { --series-color: #652d90; }
body.vscode-high-contrast-light svg .series-3 { --series-color: #b5200d; }
body.vscode-high-contrast-light svg .series-4 { --series-color: #5e4b00; }
body.vscode-high-contrast-light svg .series-5 { --series-color: #1f6f1f; }
body.vscode-high-contrast-light svg .series-6 { --series-color: #292929; }
svg path.series { fill: none; }
svg circle.series.reference, svg circle.series.comparison { fill: var(--vscode-editor-background, transparent); }
tr.comparison th, tr.comparison td { font-style: italic; }
.comparisons { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
dl.metadata { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.metadata dt { color: var(--vscode-descriptionForeground); }
dl.metadata dd { margin: 0; overflow-wrap: anywhere; }
`;
