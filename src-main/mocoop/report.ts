/**
 * A run's report, rendered: report.html (self-contained, charts as inline SVG, opens offline),
 * metrics.json (every number and every setting) and predictions.csv (one row per test image), as
 * strings. Pure: data in, text out; writing the folder is services/report-writer.ts's job.
 */
import { csvCell } from '../importing/csv';
import type { RunMetricsSummary } from '../contract/run-record';
import { barChart, esc, lineChart, settingRows } from './report-charts';

interface ConfusionBlock {
  classes: string[];
  counts: number[][];
}

interface ExpertUsage {
  load: number[];
  router_agrees_with_p_hard: number | null;
}

export interface ReportInput {
  run: {
    id: string;
    method: string;
    status: string;
    settings: Record<string, unknown>;
    backend: string;
    modelId: string;
    createdAt: string;
    finishedAt: string | null;
  };
  evaluation: {
    accuracy: number;
    base_accuracy: number | null;
    new_accuracy: number | null;
    h: number | null;
    images: number;
    per_class: { class: string; role: string; images: number; correct: number; accuracy: number }[];
    /** The legacy block (`classes`/`counts`: base classes of a base-to-new run, else all) and, for base-to-new, both labelled blocks. */
    confusion: ConfusionBlock & { base?: ConfusionBlock; new?: ConfusionBlock };
    expert_usage: ExpertUsage & { base?: ExpertUsage; new?: ExpertUsage };
    class_match?: {
      run: { used: string[]; missing: string[] };
      test_project: { used: string[]; unknown: { class: string; images: number }[]; excluded_images: number };
    };
  };
  steps: { step: number; epoch: number; loss: number; l_ce: number; l_gate: number; l_text: number; l_kg?: number; lr: number }[];
  /** topExperts are expert indices as stored (0-based); the CSV numbers experts from 1, as the app shows them. */
  predictions: { path: string; label: string; prediction: string; correct: boolean; topExperts: number[]; topWeights: number[] }[];
  codeVersion: string;
  project: string;
  /** Every run of the project, to compare like with like. */
  comparison?: ({ id: string; method: string; status: string } & RunMetricsSummary)[];
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/** Quoted as needed, and a leading = + - @ neutralised (a file or class name must not run as a spreadsheet formula). */
const csvField = csvCell;

/** One row per test image; experts numbered from 1 (expert 1 = the first template group), as everywhere users see them. */
export function predictionsCsv(rows: ReportInput['predictions']): string {
  const header = 'path,label,prediction,correct,top_experts,top_weights';
  const lines = rows.map((r) =>
    [r.path, r.label, r.prediction, r.correct ? '1' : '0', r.topExperts.map((e) => e + 1).join(';'), r.topWeights.map((w) => w.toFixed(6)).join(';')]
      .map(csvField)
      .join(',')
  );
  return [header, ...lines].join('\n') + '\n';
}

function confusionTable(c: ConfusionBlock, label?: string): string {
  const max = Math.max(1, ...c.counts.flat());
  // Column heads stand upright (24 classes fit the page width); long names are cut, whole in the tooltip.
  const head = `<thead><tr><th class="corner">true ↓ · predicted →</th>${c.classes.map((n) => `<th class="col" title="${esc(n)}"><span>${esc(n)}</span></th>`).join('')}</tr></thead>`;
  const rows = c.counts
    .map(
      (row, i) =>
        `<tr><th class="rowhead" title="${esc(c.classes[i])}">${esc(c.classes[i])}</th>${row.map((v, j) => `<td style="background:rgba(${i === j ? '31,138,76' : '198,47,59'},${(v / max).toFixed(2)})">${v}</td>`).join('')}</tr>`
    )
    .join('');
  return `<div class="scroll"><table class="confusion"${label ? ` data-block="${esc(label)}"` : ''}>${head}<tbody>${rows}</tbody></table></div>`;
}

/** Both blocks of a base-to-new run, each under its heading; else the one matrix. */
function confusionSection(e: ReportInput['evaluation']): string {
  const c = e.confusion;
  if (c.base || c.new) {
    return [
      c.base ? `<h2>Confusion matrix · base classes (base images among base classes)</h2>\n${confusionTable(c.base, 'base')}` : '',
      c.new ? `<h2>Confusion matrix · new classes (new images among new classes)</h2>\n${confusionTable(c.new, 'new')}` : ''
    ].join('\n');
  }
  // Metrics stored before both blocks were kept: a base-to-new run has its base block only.
  return `<h2>Confusion matrix${e.h !== null || e.base_accuracy !== null ? ' (base classes)' : ''}</h2>\n${confusionTable(c)}`;
}

/** The router's top-1 against the hard-prompt gate's, over all images and per side of a base-to-new run. */
function agreementCards(u: ReportInput['evaluation']['expert_usage']): string {
  if (u.router_agrees_with_p_hard === null) return '';
  const sides = [
    u.base && u.base.router_agrees_with_p_hard !== null ? `base ${pct(u.base.router_agrees_with_p_hard)}` : '',
    u.new && u.new.router_agrees_with_p_hard !== null ? `new ${pct(u.new.router_agrees_with_p_hard)}` : ''
  ].filter(Boolean);
  return `<div class="card"><div class="big">${pct(u.router_agrees_with_p_hard)}</div>router top-1 agrees with the hard-prompt gate${sides.length ? ` (${sides.join(', ')})` : ''}</div>`;
}

/** Which classes were evaluated: run classes the test project lacks, test-project classes the run does not know. */
function classMatchNote(e: ReportInput['evaluation']): string {
  const m = e.class_match;
  if (!m || (m.run.missing.length === 0 && m.test_project.excluded_images === 0)) return '';
  const missing = m.run.missing.length ? `Not evaluated (not in the test project): ${m.run.missing.map(esc).join(', ')}. ` : '';
  const unknown = m.test_project.unknown.filter((u) => u.images > 0);
  const excluded = m.test_project.excluded_images
    ? `${m.test_project.excluded_images} image(s) of classes this run does not know left out: ${unknown.map((u) => `${esc(u.class)} (${u.images})`).join(', ')}.`
    : '';
  return `<p class="muted" data-testid="class-match">${m.run.used.length} of the run's ${m.run.used.length + m.run.missing.length} classes evaluated. ${missing}${excluded}</p>`;
}

const ROLE_COLORS: Record<string, string> = { base: '#2f6fde', new: '#d9480f', all: '#2f6fde' };

/** The experts as the app numbers them, each with its template group (the first template names it). */
function expertsTable(groups: string[][], load: number[]): string {
  if (groups.length === 0) return '';
  const total = load.reduce((a, b) => a + b, 0) || 1;
  const rows = groups
    .map(
      (g, j) =>
        `<tr><th>expert ${j + 1}</th><td>${g.map((t) => `<code>${esc(t)}</code>`).join('<br>')}</td><td class="num">${load[j] ?? 0}</td><td class="num">${pct((load[j] ?? 0) / total)}</td></tr>`
    )
    .join('');
  return `<table class="experts"><thead><tr><th>expert</th><th>template group</th><th>images (top-1)</th><th>share</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function reportHtml(input: ReportInput): string {
  const e = input.evaluation;
  const s = input.steps;
  const settings = settingRows(input.run.settings)
    .map((r) => `<tr><th title="${esc(r.key)}">${esc(r.name)}</th><td>${esc(r.value)}</td></tr>`)
    .join('');
  const groups = (input.run.settings.groups as string[][] | undefined) ?? [];
  const roles = new Set(e.per_class.map((c) => c.role));
  const perClassLegend =
    roles.has('base') || roles.has('new')
      ? `<p class="legend"><span class="swatch" style="background:${ROLE_COLORS.base}"></span>base class (trained on) <span class="swatch" style="background:${ROLE_COLORS.new}"></span>new class (not trained on)</p>`
      : '';
  const epochs = new Set(s.map((x) => x.epoch)).size;
  const usesGate = s.some((x) => x.l_gate !== 0);
  const usesText = s.some((x) => x.l_text !== 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MoCoOp report · ${esc(input.run.id)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:960px;color:#1c2330;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.big{font-size:32px;font-weight:700;color:#2f6fde}.cards{display:flex;gap:24px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:10px;padding:10px 16px}table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #e3e3e3;padding:3px 8px;text-align:left;vertical-align:top}.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#5d6675;font-size:12px}.chart{display:block;max-width:100%}.chart text{fill:#1c2330;font-family:system-ui,sans-serif}
.legend{font-size:12px;display:flex;gap:6px;align-items:center}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-left:8px}
.scroll{overflow-x:auto}.confusion{font-size:11px}.confusion td{text-align:center;min-width:22px;padding:2px 3px}
.confusion th.col{vertical-align:bottom;padding:4px 2px;max-width:22px}.confusion th.col span{writing-mode:vertical-rl;transform:rotate(180deg);display:inline-block;max-height:22em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.confusion th.rowhead{max-width:22em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:500}.confusion th.corner{font-weight:500;font-size:10px;vertical-align:bottom}
.settings th{font-weight:500;white-space:nowrap}.experts code{font-size:12px}
@page{size:A4;margin:14mm}
@media print{
body{margin:0;max-width:none;padding:0;font-size:11pt}
h2{break-after:avoid;page-break-after:avoid;margin-top:18px}
.card,.chart,table,tr,.legend{break-inside:avoid;page-break-inside:avoid}
.scroll{overflow:visible}.confusion{font-size:8px}.confusion th.col span{max-height:none}.confusion td{min-width:0;padding:1px}
.confusion td,.confusion th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.swatch,.chart{-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:inherit;text-decoration:none}
}
</style></head><body>
<h1>MoCoOp Workbench report · ${esc(input.run.method)} · ${esc(input.run.id)}</h1>
<p class="muted">Project ${esc(input.project)} · model ${esc(input.run.modelId)} · ${esc(input.run.backend)} · started ${esc(input.run.createdAt)} · code ${esc(input.codeVersion)}</p>
<div class="cards">
<div class="card"><div class="big">${pct(e.accuracy)}</div>accuracy on ${e.images} test images</div>
${e.h !== null ? `<div class="card"><div class="big">${pct(e.h)}</div>H (base ${pct(e.base_accuracy)}, new ${pct(e.new_accuracy)})</div>` : ''}
${agreementCards(e.expert_usage)}
</div>
${classMatchNote(e)}
<h2>Training</h2>
${lineChart(
  [
    { name: 'total loss', color: '#1c2330', values: s.map((x) => x.loss) },
    { name: 'L_ce (classification)', color: '#2f6fde', values: s.map((x) => x.l_ce) },
    ...(usesGate ? [{ name: 'L_gate (router vs. gate)', color: '#d9480f', values: s.map((x) => x.l_gate) }] : []),
    ...(usesText ? [{ name: 'L_text (experts vs. templates)', color: '#2b8a3e', values: s.map((x) => x.l_text) }] : []),
    ...(s.length && s.every((x) => typeof x.l_kg === 'number') ? [{ name: 'L_kg (KgCoOp)', color: '#7048e8', values: s.map((x) => x.l_kg!) }] : [])
  ],
  {
    title: 'Training losses per step',
    xLabel: `training step (${s.length} steps${epochs ? `, ${epochs} epoch${epochs === 1 ? '' : 's'}` : ''})`,
    yLabel: 'loss (one batch)'
  }
)}
<h2>Per-class accuracy</h2>
${perClassLegend}
${barChart(
  e.per_class.map((c) => ({ label: `${c.class}${c.role !== 'all' ? ` (${c.role})` : ''}`, value: c.accuracy, color: ROLE_COLORS[c.role] ?? ROLE_COLORS.all })),
  { title: 'Accuracy per class on the test images', format: pct, axisLabel: "accuracy on the class's test images", max: 1 }
)}
${confusionSection(e)}
${
  e.expert_usage.load.length > 1 || groups.length > 1
    ? `<h2>Expert usage (router top-1)</h2>
${barChart(
  e.expert_usage.load.map((n, j) => ({ label: `expert ${j + 1} · ${groups[j]?.[0] ?? ''}`, value: n })),
  {
    title: 'Test images per expert (router top-1)',
    format: (v) => String(Math.round(v * 100) / 100),
    axisLabel: 'test images routed to the expert first (router top-1)',
    maxLabelWidth: 360
  }
)}
${expertsTable(groups, e.expert_usage.load)}`
    : ''
}
${input.comparison?.length ? `<h2>All runs of this project</h2><table><thead><tr><th>run</th><th>method</th><th>status</th><th>accuracy</th><th>base</th><th>new</th><th>H</th></tr></thead><tbody>${input.comparison.map((r) => `<tr${r.id === input.run.id ? ' style="font-weight:700"' : ''}><td>${esc(r.id)}</td><td>${esc(r.method)}</td><td>${esc(r.status)}</td><td class="num">${pct(r.accuracy)}</td><td class="num">${pct(r.base_accuracy)}</td><td class="num">${pct(r.new_accuracy)}</td><td class="num">${pct(r.h)}</td></tr>`).join('')}</tbody></table>` : ''}
<h2>Settings</h2>
<table class="settings">${settings}</table>
</body></html>
`;
}

/** The report's files by kind: their names in the report folder. */
export const REPORT_FILES = { html: 'report.html', json: 'metrics.json', csv: 'predictions.csv' } as const;

/** The report's files by kind (as REPORT_FILES), as their contents. */
export interface RenderedReport {
  html: string;
  json: string;
  csv: string;
}

/** metrics.json: the run, the project, the code version, the evaluation, every step and the comparison. */
export function metricsJson(input: ReportInput): string {
  const metrics = {
    run: input.run,
    project: input.project,
    code_version: input.codeVersion,
    evaluation: input.evaluation,
    steps: input.steps,
    comparison: input.comparison ?? []
  };
  return JSON.stringify(metrics, null, 2);
}

/** The whole report as text: metrics.json, predictions.csv and report.html. */
export function renderReport(input: ReportInput): RenderedReport {
  return { json: metricsJson(input), csv: predictionsCsv(input.predictions), html: reportHtml(input) };
}
