/**
 * The charts and tables of report.html as plain functions returning markup: inline SVG with axes,
 * tick values, axis titles and legends (the report opens offline and prints as it shows), and the
 * run's settings under readable names with their units.
 */

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** About how wide a label of `text` is at `fontSize` px in a sans-serif font (SVG text is not measured offline). */
export function textWidth(text: string, fontSize = 11): number {
  return Math.ceil(text.length * fontSize * 0.56);
}

/** A label cut to fit `maxWidth` px at `fontSize` px, with … where it was cut (the full text goes in a <title>). */
export function fitLabel(text: string, maxWidth: number, fontSize = 11): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = Math.max(1, Math.floor(maxWidth / (fontSize * 0.56)) - 1);
  return `${text.slice(0, chars).trimEnd()}…`;
}

/** Round tick values covering [min, max]: steps of 1, 2 or 5 × 10ⁿ, at most about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Round ticks from at or below `min` to at or above `max` (an axis that holds every value). */
export function coveringTicks(min: number, max: number, count = 5): number[] {
  const inner = niceTicks(min, max, count);
  if (inner.length < 2) return inner;
  const step = inner[1]! - inner[0]!;
  const ticks = [...inner];
  if (ticks[0]! > min + step * 1e-9) ticks.unshift(Number((ticks[0]! - step).toPrecision(12)));
  if (ticks.at(-1)! < max - step * 1e-9) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

/** Tick text without float noise: 0.30000000000000004 → "0.3", 12000 → "12000". */
export function tickText(v: number): string {
  return String(Number(v.toPrecision(6)));
}

export interface Series {
  name: string;
  color: string;
  values: number[];
}

/**
 * Curves over training steps: a y axis with round ticks and its title, an x axis numbered in steps,
 * a legend above the plot. Non-finite values leave a gap.
 */
export function lineChart(series: Series[], options: { xLabel: string; yLabel: string; title: string; width?: number; height?: number }): string {
  const width = options.width ?? 720;
  const height = options.height ?? 260;
  const shown = series.filter((s) => s.values.some(Number.isFinite));
  const all = shown.flatMap((s) => s.values).filter(Number.isFinite);
  if (all.length === 0) return '<p class="muted">No training steps (this method does not train).</p>';
  const yTicks = coveringTicks(Math.min(0, ...all), Math.max(...all), 5);
  const [y0, y1] = [Math.min(yTicks[0]!, ...all), Math.max(yTicks.at(-1)!, ...all)];
  const n = Math.max(...shown.map((s) => s.values.length));
  const left = 14 + Math.max(...yTicks.map((t) => textWidth(tickText(t), 10))) + 8;
  const [top, right, bottom] = [30, 12, 40];
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (i: number) => left + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => top + (1 - (v - y0) / (y1 - y0 || 1)) * plotH;
  const xTicks = niceTicks(1, Math.max(1, n), 6).filter((t) => Number.isInteger(t) && t >= 1 && t <= n);
  const grid = yTicks
    .map(
      (t) =>
        `<line x1="${left}" x2="${width - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e3e6ea"/><text x="${left - 6}" y="${(y(t) + 3.5).toFixed(1)}" font-size="10" text-anchor="end">${tickText(t)}</text>`
    )
    .join('');
  const xAxis = xTicks
    .map(
      (t) =>
        `<line x1="${x(t - 1).toFixed(1)}" x2="${x(t - 1).toFixed(1)}" y1="${top + plotH}" y2="${top + plotH + 4}" stroke="#777"/><text x="${x(t - 1).toFixed(1)}" y="${top + plotH + 15}" font-size="10" text-anchor="middle">${t}</text>`
    )
    .join('');
  const lines = shown
    .map((s) => {
      // A non-finite value ends a segment; a lone point is drawn as a dot.
      const segments: string[][] = [[]];
      s.values.forEach((v, i) => (Number.isFinite(v) ? segments.at(-1)!.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`) : segments.push([])));
      return segments
        .filter((seg) => seg.length > 0)
        .map((seg) =>
          seg.length === 1
            ? `<circle cx="${seg[0]!.split(',')[0]}" cy="${seg[0]!.split(',')[1]}" r="2.5" fill="${s.color}"><title>${esc(s.name)}</title></circle>`
            : `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${seg.join(' ')}"><title>${esc(s.name)}</title></polyline>`
        )
        .join('');
    })
    .join('');
  let lx = left;
  const legend = shown
    .map((s) => {
      const item = `<rect x="${lx}" y="8" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="17" font-size="11">${esc(s.name)}</text>`;
      lx += 14 + textWidth(s.name) + 18;
      return item;
    })
    .join('');
  const axes = `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#777"/><line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#777"/>`;
  const titles = `<text x="${left + plotW / 2}" y="${height - 6}" font-size="11" text-anchor="middle" data-axis="x">${esc(options.xLabel)}</text><text transform="translate(11 ${top + plotH / 2}) rotate(-90)" font-size="11" text-anchor="middle" data-axis="y">${esc(options.yLabel)}</text>`;
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(options.title)}" class="chart">${grid}${axes}${xAxis}${lines}${legend}${titles}</svg>`;
}

/**
 * Horizontal bars, one per item, with the item's label at the left (the column as wide as the longest
 * label needs, up to `maxLabelWidth` px; a longer one is cut with … and kept whole in its <title>), its
 * value at the bar's end, and a value axis with round ticks and a title below.
 */
export function barChart(
  items: { label: string; value: number; color?: string }[],
  options: { format: (v: number) => string; axisLabel: string; title: string; max?: number; width?: number; maxLabelWidth?: number }
): string {
  if (items.length === 0) return '<p class="muted">Nothing to show.</p>';
  const width = options.width ?? 720;
  const row = 20;
  const labelW = Math.min(options.maxLabelWidth ?? 320, Math.max(...items.map((it) => textWidth(it.label))) + 10);
  const valueW = Math.max(...items.map((it) => textWidth(options.format(it.value)))) + 10;
  const plotW = width - labelW - valueW;
  const max = options.max ?? Math.max(...coveringTicks(0, Math.max(1e-9, ...items.map((i) => i.value)), 4));
  const bars = items
    .map((it, k) => {
      const w = Math.max(0, (Math.min(it.value, max) / (max || 1)) * plotW);
      const shown = fitLabel(it.label, labelW - 10);
      return `<g><title>${esc(it.label)}: ${esc(options.format(it.value))}</title><text x="${labelW - 8}" y="${k * row + 14}" font-size="11" text-anchor="end">${esc(shown)}</text><rect x="${labelW}" y="${k * row + 3}" width="${w.toFixed(1)}" height="${row - 6}" fill="${it.color ?? '#2f6fde'}"/><text x="${labelW + w + 4}" y="${k * row + 14}" font-size="11">${esc(options.format(it.value))}</text></g>`;
    })
    .join('');
  const plotBottom = items.length * row + 4;
  const ticks = niceTicks(0, max, 4)
    .map((t) => {
      const tx = labelW + (t / (max || 1)) * plotW;
      return `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="0" y2="${plotBottom}" stroke="#e3e6ea"/><text x="${tx.toFixed(1)}" y="${plotBottom + 13}" font-size="10" text-anchor="middle">${esc(options.format(t))}</text>`;
    })
    .join('');
  const height = plotBottom + 34;
  const axis = `<line x1="${labelW}" x2="${labelW}" y1="0" y2="${plotBottom}" stroke="#777"/><line x1="${labelW}" x2="${labelW + plotW}" y1="${plotBottom}" y2="${plotBottom}" stroke="#777"/><text x="${labelW + plotW / 2}" y="${height - 4}" font-size="11" text-anchor="middle" data-axis="x">${esc(options.axisLabel)}</text>`;
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(options.title)}" class="chart">${ticks}${bars}${axis}</svg>`;
}

/** Readable names of the recorded settings, with their unit or how to read the value. */
const SETTINGS: Record<string, { name: string; value?: (v: unknown) => string }> = {
  method: { name: 'Method' },
  preset: {
    name: 'Preset',
    value: (v) => (v === 'paper' ? 'paper (the published equations)' : v === 'released-code' ? "released code (what the authors' code does)" : String(v))
  },
  schedule: { name: 'Schedule' },
  setId: { name: 'Few-shot set', value: (v) => `#${v}` },
  seed: { name: 'Seed' },
  topK: { name: 'Experts per image (K)' },
  epochs: { name: 'Epochs', value: (v) => `${v} epoch${v === 1 ? '' : 's'}` },
  warmupEpochs: { name: 'Warm-up', value: (v) => `${v} epoch${v === 1 ? '' : 's'}` },
  warmupLr: { name: 'Warm-up learning rate', value: (v) => `${v} (constant)` },
  batchSize: { name: 'Batch size', value: (v) => `${v} image${v === 1 ? '' : 's'}` },
  lr: { name: 'Learning rate', value: (v) => `${v} (SGD, cosine decay)` },
  momentum: { name: 'SGD momentum' },
  weightDecay: { name: 'Weight decay', value: (v) => `${v} (L2)` },
  augment: { name: 'Augmentation' },
  deviations: { name: 'Deviations from the published method', value: (v) => (Array.isArray(v) ? (v.length ? v.join('; ') : 'none') : String(v)) },
  augViews: { name: 'Augmented views', value: (v) => (v === 0 ? 'none (the images as they are)' : `${v} per image (random crops and flips)`) },
  tauCe: { name: 'τ · classification', value: (v) => `${v} (temperature)` },
  tauGate: { name: 'τ · gate', value: (v) => `${v} (temperature)` },
  tauText: { name: 'τ · text', value: (v) => `${v} (temperature)` },
  lambda1: { name: 'λ1 · gate loss weight' },
  lambda2: { name: 'λ2 · text loss weight' },
  lambdaKg: { name: 'λ · KgCoOp weight' },
  underscoresAsSpaces: { name: 'Underscores in class names', value: (v) => (v ? 'read as spaces' : 'kept') },
  classes: { name: 'Classes trained on', value: (v) => namesList(v) },
  virtualClasses: { name: 'New classes (not trained on)', value: (v) => namesList(v) }
};
/** Recorded for the program, not for people: ids the class names above already say, and the groups listed under Experts. */
const HIDDEN = new Set(['groups', 'classIds', 'virtualClassIds']);

function namesList(v: unknown): string {
  return Array.isArray(v) ? `${v.length}: ${v.join(', ')}` : String(v);
}

/** "warmupLr" → "Warmup lr" for a setting without a readable name yet. */
function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The settings as [readable name, value with unit, key] rows, in a reading order (the known ones first). */
export function settingRows(settings: Record<string, unknown>): { name: string; value: string; key: string }[] {
  const order = Object.keys(SETTINGS);
  return Object.entries(settings)
    .filter(([k]) => !HIDDEN.has(k))
    .sort(([a], [b]) => (order.indexOf(a) === -1 ? 999 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 999 : order.indexOf(b)))
    .map(([key, v]) => {
      const known = SETTINGS[key];
      const value = known?.value ? known.value(v) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
      return { key, name: known?.name ?? humanize(key), value };
    });
}
