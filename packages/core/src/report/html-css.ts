/* The report's inline style sheet (no external fonts or files: the page works offline and prints on A4). */

export const CSS = `
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--fresh:#116329;--fresh-bg:#dafbe1;--stale:#a40e26;--stale-bg:#ffebe9;--acc:#2f5fb3;--dup:#8c959f;--rej:#c4314b;--oth:#afb8c1}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
.wrap{max-width:1200px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:28px;margin:0 0 4px}
h2{font-size:22px;margin:0 0 4px;display:flex;align-items:center;gap:12px;flex-wrap:wrap}
h3{font-size:17px;margin:0 0 8px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0 8px}
.small{font-size:13px;color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
.lead{color:var(--muted);margin:0 0 16px}
.badge{display:inline-block;font-size:13px;font-weight:700;letter-spacing:.04em;padding:2px 10px;border-radius:999px;border:2px solid;vertical-align:middle;white-space:nowrap}
.badge.fresh{color:var(--fresh);background:var(--fresh-bg);border-color:var(--fresh)}
.badge.stale{color:var(--stale);background:var(--stale-bg);border-color:var(--stale);border-style:dashed}
.summary{margin:16px 0 24px}
nav.toc ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:8px 20px}
section.scope{border-top:3px solid var(--fg);padding-top:16px;margin-top:32px}
.cards{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.4fr);gap:16px;margin:12px 0 20px}
.card{border:1px solid var(--line);border-radius:8px;padding:14px 16px;background:var(--bg)}
.card.is-stale{border:2px dashed var(--stale);background:#fffafa}
.card.rollback{background:var(--soft)}
.card.rollback ol{padding-left:20px;margin:8px 0}
.big .badge{font-size:16px;padding:4px 14px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
dt{color:var(--muted)}dd{margin:0;font-weight:600}
.why{margin:8px 0 0}
.gauge{display:block;max-width:100%;height:auto;margin:8px 0}
.gauge-track{fill:#eaeef2}.gauge-fresh{fill:var(--fresh)}.gauge-stale{fill:var(--stale)}
.gauge-slo{stroke:var(--fg);stroke-width:2;stroke-dasharray:3 2}.gauge-label{font-size:10px;fill:var(--muted)}
section.part{margin:20px 0}
table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:14px}
caption{text-align:left;font-weight:600;padding:4px 0;color:var(--muted)}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:var(--soft);border-bottom:2px solid var(--line);font-weight:600}
tbody th{font-weight:500}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.id,.uri{overflow-wrap:anywhere;word-break:break-word}
.barcol{width:24%}
.bar-accepted{fill:var(--acc)}
.bar-dup{stroke:var(--dup);stroke-width:.6}.pat-dup-bg{fill:#eef0f2}.pat-dup-line{stroke:#57606a;stroke-width:2}
.bar-rej{stroke:var(--rej);stroke-width:.6}.pat-rej-bg{fill:#fde2e5}.pat-rej-line{stroke:var(--rej);stroke-width:1.2}
.bar-other{stroke:var(--oth);stroke-width:.6}.pat-oth-bg{fill:#f6f8fa}.pat-oth-dot{fill:#6e7781}
.chg{white-space:nowrap;font-weight:600}.chg.up{color:var(--fresh)}.chg.down{color:var(--stale)}.chg.new{color:#8250df}.chg.same,.chg.unknown{color:var(--muted)}
ol.nb{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:4px 8px}
ol.nb li{background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:0 6px}
.cnt{color:var(--muted);font-variant-numeric:tabular-nums}
figure.chart{margin:8px 0}
figure.chart svg{display:block;max-width:100%;height:auto}
.tick{font-size:11px;fill:var(--muted)}.tick.key{font-size:12px;fill:var(--fg)}
.grid{stroke:#eaeef2;stroke-width:1}.axis{stroke:var(--fg);stroke-width:1}
.blocked-outline{fill:none;stroke:var(--stale);stroke-width:2;stroke-dasharray:4 2}
.blocked-label{font-size:11px;font-weight:700;fill:var(--stale)}
.mark{font-weight:700}
text.mark{font-size:13px}
.mark-published{color:var(--fresh);fill:var(--fresh)}.mark-blocked{color:var(--stale);fill:var(--stale)}.mark-not_published,.mark-not_ingested{color:var(--muted);fill:var(--muted)}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:4px 0;font-size:13px;color:var(--muted)}
.legend svg,figure.chart .legend svg{display:inline-block;vertical-align:-2px;margin-right:4px}
table.ingest tbody th,table.timeline td:nth-child(2){white-space:nowrap}
tr.row-blocked{background:var(--stale-bg)}
tr.row-blocked th{box-shadow:inset 4px 0 0 var(--stale)}
.msg{max-width:60ch;overflow-wrap:anywhere}
th.reason{white-space:normal}
.ev-publish circle,.ev-publish-l{fill:var(--acc)}
.ev-rollback path,.ev-rollback-l{fill:#bc4c00}
.reason{white-space:nowrap;font-weight:600}.reason-rollback{color:#bc4c00}.reason-publish{color:var(--acc)}
.note{margin-top:2px}.tag{display:inline-block;font-size:12px;border:1px solid var(--line);border-radius:4px;padding:0 4px;background:var(--soft)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
footer{margin-top:40px;color:var(--muted);font-size:13px}
@media (max-width:900px){.cards{grid-template-columns:1fr}.wrap{padding:16px}}
@page{size:A4;margin:12mm}
@media print{
  body{font-size:10pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
  .wrap{max-width:none;padding:0}
  nav.toc{display:none}
  section.scope{break-before:page;border-top:none;margin-top:0}
  section.scope:first-of-type{break-before:auto}
  table,figure,.card,tr{break-inside:avoid}
  h2,h3{break-after:avoid}
  .cards{grid-template-columns:1fr 1.3fr}
  table{font-size:9pt}
  th,td{padding:3px 4px}
  pre{font-size:8pt}
}
`;
