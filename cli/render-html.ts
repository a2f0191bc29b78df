/**
 * `audit --format html`: one self-contained page to file as audit evidence. No script, no external asset (styles
 * and charts are inline; a Content-Security-Policy forbids loading anything), so it opens offline and renders the
 * same in ten years. Every text from the run is escaped: server names and messages come from Datagrid.
 */
import type { AuditResult, RunSummary } from '../lambda/types/results.ts';
import type { AwsIdentity, JsonEvidence } from './evidence.ts';
import { safeHtml, type SafeHtml } from './html.ts';
import { AUDIT_HEAD, auditRow, isAudit } from './render.ts';
import { ageBars, barChart, complianceBars, findingBars } from './report-charts.ts';

export interface HtmlReportContext {
  identity: AwsIdentity;
  /** The configuration file as given and the SHA-256 of its bytes. */
  config: { file: string; sha256: string };
  evidence: JsonEvidence;
  /** `name version` of the rotator that made the report. */
  generator: string;
}

/** What an auditor runs to check the page against the JSON it was made from. */
export const EVIDENCE_HASH_EXPLANATION =
  'This is the SHA-256 of the UTF-8 bytes of the JSON evidence below: exactly what ' +
  '`datagrid-mcp-rotator audit --format json` prints for this run (two-space indentation, one final newline), and ' +
  'exactly the text of the JSON evidence section. `audit --format html --output <file> --json > evidence.json` ' +
  'saves those bytes beside the page; `sha256sum evidence.json` recomputes this value.';

const STYLE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; }
body { margin: 2rem auto; max-width: 78rem; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
.verdict { font-weight: 600; }
.verdict.bad, tr.noncompliant td.compliant { color: #b42318; }
.verdict.good, tr.compliant td.compliant { color: #1a7f37; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; flex: 1 1 24rem; min-width: 0; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
svg.chart { max-width: 100%; height: auto; font-size: 13px; }
svg.chart text { fill: #1b1f24; }
.bar.good rect { fill: #2da44e; } .bar.bad rect { fill: #cf222e; } .bar.neutral rect { fill: #0969da; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; min-width: 56rem; font-size: .85rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .45rem; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th { background: #f6f8fa; }
td ul { margin: 0; padding-left: 1.1rem; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; white-space: pre; }
@media print { body { margin: 0; max-width: none; } details { display: block; } .table-wrap { overflow: visible; } }
`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function fact(term: string, value: SafeHtml | string, id: string): SafeHtml {
  return safeHtml`<dt>${term}</dt><dd id="${id}">${value}</dd>`;
}

function serverRow(audit: AuditResult): SafeHtml {
  const cells = auditRow(audit).slice(0, -1);
  const findings = audit.findings.map((f) => safeHtml`<li><code>${f.code}</code>: ${f.message}</li>`);
  const columns = cells.map((cell, i) => safeHtml`<td class="${AUDIT_HEAD[i]!.replace(/\W+/g, '-')}">${cell}</td>`);
  return safeHtml`<tr class="${audit.compliant ? 'compliant' : 'noncompliant'}">${columns}<td class="findings">${
    findings.length > 0 ? safeHtml`<ul>${findings}</ul>` : ''
  }</td></tr>`;
}

export function auditHtml(summary: RunSummary, context: HtmlReportContext): string {
  const audits = summary.results.filter(isAudit);
  const { compliant, noncompliant } = summary.counts;
  const { identity, config, evidence } = context;
  const account = identity.account ?? `unknown: ${identity.accountError ?? 'not asked'}`;
  const verdict =
    noncompliant === 0
      ? safeHtml`<span class="verdict good">all ${compliant} target(s) compliant</span>`
      : safeHtml`<span class="verdict bad">${noncompliant} of ${audits.length} target(s) non-compliant</span>`;
  const requestedBy =
    summary.requestedBy === undefined ? '' : fact('Requested by', summary.requestedBy, 'requested-by');
  const targets = `${audits.length} (compliant ${compliant}, non-compliant ${noncompliant})`;

  const page = safeHtml`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${context.generator}">
<title>Datagrid MCP credential audit ${summary.runId}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Datagrid MCP credential audit</h1>
<p>${verdict}</p>
</header>
<section id="run-facts">
<h2>Run</h2>
<dl class="facts">
${fact('Run id', safeHtml`<code>${summary.runId}</code>`, 'run-id')}
${fact('Started', summary.startedAt, 'started-at')}
${fact('Finished', summary.finishedAt, 'finished-at')}
${fact('Trigger', summary.trigger, 'trigger')}
${requestedBy}
${fact('AWS account', account, 'aws-account')}
${fact('AWS region', identity.region, 'aws-region')}
${fact('Configuration file', config.file, 'config-file')}
${fact('Configuration SHA-256', safeHtml`<code>${config.sha256}</code>`, 'config-sha256')}
${fact('Targets', targets, 'targets')}
${fact('Made by', context.generator, 'generator')}
</dl>
</section>
<section id="summary">
<h2>Summary</h2>
<div class="charts">
<figure>
<figcaption>Compliance</figcaption>
${barChart('chart-compliance', 'Targets by compliance', complianceBars(audits))}
</figure>
<figure>
<figcaption>Findings by code (targets with the finding)</figcaption>
${barChart('chart-findings', 'Targets by finding code', findingBars(audits))}
</figure>
<figure>
<figcaption>Credential age (days since the last rotation)</figcaption>
${barChart('chart-age', 'Targets by credential age', ageBars(audits))}
</figure>
</div>
</section>
<section id="servers-section">
<h2>Servers</h2>
<div class="table-wrap">
<table id="servers">
<thead><tr>${AUDIT_HEAD.map((head) => safeHtml`<th scope="col">${head}</th>`)}</tr></thead>
<tbody>
${audits.map(serverRow)}
</tbody>
</table>
</div>
</section>
<section id="evidence">
<h2>Evidence</h2>
<dl class="facts">
${fact('JSON evidence SHA-256', safeHtml`<code>${evidence.sha256}</code>`, 'evidence-sha256')}
</dl>
<p id="evidence-explanation">${EVIDENCE_HASH_EXPLANATION}</p>
<details>
<summary>JSON evidence (${Buffer.byteLength(evidence.text)} bytes)</summary>
<pre id="evidence-json">${evidence.text}</pre>
</details>
</section>
</body>
</html>
`;
  return page.markup;
}
