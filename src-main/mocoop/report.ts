/**
 * A run's report folder: report.html (self-contained, charts as inline SVG, opens offline),
 * metrics.json (every number and every setting) and predictions.csv (one row per test image).
 */
import fs from 'node:fs';
import path from 'node:path';
import { csvCell } from '../importing/csv';
import { checkOutputFolder } from '../services/output-folder';

interface ConfusionBlock {
  classes: string[];
  counts: number[][];
}

interface ExpertUsage {
  load: number[];
  router_agrees_with_p_hard: number | null;
}

export interface ReportInput {
  run: { id: string; method: string; status: string; settings: Record<string, unknown>; backend: string; modelId: string; createdAt: string; finishedAt: string | null };
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
  comparison?: { id: string; method: string; status: string; accuracy: number | null; base_accuracy: number | null; new_accuracy: number | null; h: number | null }[];
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/** Quoted as needed, and a leading = + - @ neutralised (a file or class name must not run as a spreadsheet formula). */
const csvField = csvCell;

/** One row per test image; experts numbered from 1 (expert 1 = the first template group), as everywhere users see them. */
export function predictionsCsv(rows: ReportInput['predictions']): string {
  const header = 'path,label,prediction,correct,top_experts,top_weights';
  const lines = rows.map((r) => [r.path, r.label, r.prediction, r.correct ? '1' : '0', r.topExperts.map((e) => e + 1).join(';'), r.topWeights.map((w) => w.toFixed(6)).join(';')].map(csvField).join(','));
  return [header, ...lines].join('\n') + '\n';
}

function lineChart(series: { name: string; color: string; values: number[] }[], width = 640, height = 220): string {
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (all.length === 0) return '<p>No training steps (this method does not train).</p>';
  const max = Math.max(...all);
  const min = Math.min(0, ...all);
  const n = Math.max(...series.map((s) => s.values.length));
  const x = (i: number) => 40 + (i / Math.max(1, n - 1)) * (width - 50);
  const y = (v: number) => 10 + (1 - (v - min) / (max - min || 1)) * (height - 30);
  const paths = series
    .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${50 + i * 110}" y="${height - 4}" fill="${s.color}" font-size="11">■ ${esc(s.name)}</text>`).join('');
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Training curves"><line x1="40" y1="${y(min)}" x2="${width - 10}" y2="${y(min)}" stroke="#999"/><text x="2" y="14" font-size="10">${max.toFixed(2)}</text><text x="2" y="${y(min)}" font-size="10">${min.toFixed(2)}</text>${paths}${legend}</svg>`;
}

function barChart(items: { label: string; value: number }[], format: (v: number) => string, width = 640): string {
  const row = 20;
  const max = Math.max(1e-9, ...items.map((i) => i.value));
  const bars = items
    .map((it, k) => {
      const w = (it.value / max) * (width - 260);
      return `<text x="0" y="${k * row + 14}" font-size="11">${esc(it.label.slice(0, 32))}</text><rect x="200" y="${k * row + 3}" width="${w.toFixed(1)}" height="${row - 6}" fill="#2f6fde"/><text x="${205 + w}" y="${k * row + 14}" font-size="11">${esc(format(it.value))}</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${width} ${items.length * row + 4}" width="100%" role="img">${bars}</svg>`;
}

function confusionTable(c: ConfusionBlock, label?: string): string {
  const max = Math.max(1, ...c.counts.flat());
  const head = `<tr><th>true \\ predicted</th>${c.classes.map((n) => `<th>${esc(n)}</th>`).join('')}</tr>`;
  const rows = c.counts
    .map((row, i) => `<tr><th>${esc(c.classes[i])}</th>${row.map((v, j) => `<td style="background:rgba(${i === j ? '31,138,76' : '198,47,59'},${(v / max).toFixed(2)})">${v}</td>`).join('')}</tr>`)
    .join('');
  return `<table class="confusion"${label ? ` data-block="${esc(label)}"` : ''}>${head}${rows}</table>`;
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
  const sides = [u.base && u.base.router_agrees_with_p_hard !== null ? `base ${pct(u.base.router_agrees_with_p_hard)}` : '', u.new && u.new.router_agrees_with_p_hard !== null ? `new ${pct(u.new.router_agrees_with_p_hard)}` : ''].filter(Boolean);
  return `<div class="card"><div class="big">${pct(u.router_agrees_with_p_hard)}</div>router top-1 agrees with the hard-prompt gate${sides.length ? ` (${sides.join(', ')})` : ''}</div>`;
}

/** Which classes were evaluated: run classes the test project lacks, test-project classes the run does not know. */
function classMatchNote(e: ReportInput['evaluation']): string {
  const m = e.class_match;
  if (!m || (m.run.missing.length === 0 && m.test_project.excluded_images === 0)) return '';
  const missing = m.run.missing.length ? `Not evaluated (not in the test project): ${m.run.missing.map(esc).join(', ')}. ` : '';
  const unknown = m.test_project.unknown.filter((u) => u.images > 0);
  const excluded = m.test_project.excluded_images ? `${m.test_project.excluded_images} image(s) of classes this run does not know left out: ${unknown.map((u) => `${esc(u.class)} (${u.images})`).join(', ')}.` : '';
  return `<p class="muted" data-testid="class-match">${m.run.used.length} of the run's ${m.run.used.length + m.run.missing.length} classes evaluated. ${missing}${excluded}</p>`;
}

export function reportHtml(input: ReportInput): string {
  const e = input.evaluation;
  const s = input.steps;
  const settings = Object.entries(input.run.settings)
    .filter(([k]) => k !== 'groups')
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`)
    .join('');
  const groups = (input.run.settings.groups as string[][] | undefined) ?? [];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MoCoOp report · ${esc(input.run.id)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:960px;color:#1c2330;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.big{font-size:32px;font-weight:700;color:#2f6fde}.cards{display:flex;gap:24px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:10px;padding:10px 16px}table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #e3e3e3;padding:3px 8px;text-align:left}.confusion td{text-align:center;min-width:28px}
.muted{color:#5d6675;font-size:12px}
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
${lineChart([
  { name: 'loss', color: '#1c2330', values: s.map((x) => x.loss) },
  { name: 'L_ce', color: '#2f6fde', values: s.map((x) => x.l_ce) },
  { name: 'L_gate', color: '#d9480f', values: s.map((x) => x.l_gate) },
  { name: 'L_text', color: '#2b8a3e', values: s.map((x) => x.l_text) },
  ...(s.length && s.every((x) => typeof x.l_kg === 'number') ? [{ name: 'L_kg', color: '#7048e8', values: s.map((x) => x.l_kg!) }] : [])
])}
<h2>Per-class accuracy</h2>
${barChart(e.per_class.map((c) => ({ label: `${c.class}${c.role !== 'all' ? ` (${c.role})` : ''}`, value: c.accuracy })), pct)}
${confusionSection(e)}
<h2>Expert usage (router top-1)</h2>
${barChart(e.expert_usage.load.map((n, j) => ({ label: `expert ${j + 1}: ${groups[j]?.[0] ?? ''}`, value: n })), (v) => String(v))}
${input.comparison?.length ? `<h2>All runs of this project</h2><table><tr><th>run</th><th>method</th><th>status</th><th>accuracy</th><th>base</th><th>new</th><th>H</th></tr>${input.comparison.map((r) => `<tr${r.id === input.run.id ? ' style="font-weight:700"' : ''}><td>${esc(r.id)}</td><td>${esc(r.method)}</td><td>${esc(r.status)}</td><td>${pct(r.accuracy)}</td><td>${pct(r.base_accuracy)}</td><td>${pct(r.new_accuracy)}</td><td>${pct(r.h)}</td></tr>`).join('')}</table>` : ''}
<h2>Settings</h2>
<table>${settings}</table>
</body></html>
`;
}

export function writeReport(dir: string, input: ReportInput): { html: string; json: string; csv: string } {
  checkOutputFolder(dir, 'the report');
  fs.mkdirSync(dir, { recursive: true });
  const files = { html: path.join(dir, 'report.html'), json: path.join(dir, 'metrics.json'), csv: path.join(dir, 'predictions.csv') };
  const metrics = { run: input.run, project: input.project, code_version: input.codeVersion, evaluation: input.evaluation, steps: input.steps, comparison: input.comparison ?? [] };
  const write = (file: string, content: string) => {
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  };
  write(files.json, JSON.stringify(metrics, null, 2));
  write(files.csv, predictionsCsv(input.predictions));
  write(files.html, reportHtml(input));
  return files;
}
