import { describe, expect, it } from 'vitest';
import { barChart, coveringTicks, fitLabel, lineChart, niceTicks, settingRows, textWidth } from '../../../src-main/mocoop/report-charts';
import { type ReportInput, reportHtml } from '../../../src-main/mocoop/report';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
/** The text of every <text> element of an SVG, in order. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

describe('tick values', () => {
  it('are round steps of 1, 2 or 5 × 10ⁿ covering the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 7.3, 4)).toEqual([0, 2, 4, 6]);
    expect(niceTicks(1, 250, 6)).toEqual([50, 100, 150, 200, 250]);
    expect(niceTicks(-3, 3, 3)).toEqual([-2, 0, 2]);
    expect(niceTicks(2, 2)).toEqual([2]);
    expect(niceTicks(0, Number.NaN)).toEqual([]);
  });
});

describe('labels cut to fit', () => {
  it('keep short labels and cut long ones with …', () => {
    expect(fitLabel('ant', 100)).toBe('ant');
    const long = 'a rather long class name that goes on and on';
    const cut = fitLabel(long, 120);
    expect(cut.endsWith('…')).toBe(true);
    expect(textWidth(cut)).toBeLessThanOrEqual(120);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
  });
});

describe('the training chart', () => {
  const svg = lineChart(
    [
      { name: 'total loss', color: '#000', values: [3, 2.5, 2, 1.2, 0.9] },
      { name: 'L_ce', color: '#00f', values: [2, 1.5, 1, 0.7, 0.5] }
    ],
    { title: 'Training losses', xLabel: 'training step', yLabel: 'loss' }
  );
  it('has both axis titles, numbered ticks on both axes and a legend entry per curve', () => {
    const t = texts(svg);
    expect(svg).toContain('data-axis="x">training step</text>');
    expect(svg).toContain('data-axis="y">loss</text>');
    expect(t).toEqual(expect.arrayContaining(['0', '1', '2', '3']));
    expect(t).toEqual(expect.arrayContaining(['1', '5']));
    expect(t).toContain('total loss');
    expect(t).toContain('L_ce');
    expect(svg).toContain('aria-label="Training losses"');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });
  it('says so when there is nothing to draw, and leaves a gap at a missing value', () => {
    expect(lineChart([{ name: 'loss', color: '#000', values: [] }], { title: 't', xLabel: 'x', yLabel: 'y' })).toContain('No training steps');
    const gap = lineChart([{ name: 'loss', color: '#000', values: [1, 2, Number.NaN, 3, 4] }], { title: 't', xLabel: 'x', yLabel: 'y' });
    expect(gap.match(/<polyline/g)).toHaveLength(2);
  });
});

describe('the bar chart', () => {
  const items = [
    { label: 'ant', value: 0.5 },
    { label: 'expert 12 · a photo of the hard to see {}.', value: 1 }
  ];
  it('keeps a long label whole when it fits, with the value at each bar and a titled value axis', () => {
    const svg = barChart(items, { title: 'Per class', format: pct, axisLabel: 'accuracy', max: 1 });
    const t = texts(svg);
    expect(t).toContain('expert 12 · a photo of the hard to see {}.');
    expect(t).toEqual(expect.arrayContaining(['50.0%', '100.0%', '0.0%']));
    expect(svg).toContain('data-axis="x">accuracy</text>');
    // The label column is as wide as the longest label: its bar starts after it.
    const x = Number(/<rect x="(\d+)"/.exec(svg)![1]);
    expect(x).toBeGreaterThanOrEqual(textWidth(items[1]!.label));
  });
  it('cuts a label longer than the column allows, whole in the tooltip', () => {
    const svg = barChart(items, { title: 'Per class', format: pct, axisLabel: 'accuracy', max: 1, maxLabelWidth: 80 });
    expect(texts(svg).some((s) => s.endsWith('…'))).toBe(true);
    expect(svg).toContain('<title>expert 12 · a photo of the hard to see {}.: 100.0%</title>');
  });
});

describe('settings in the report', () => {
  it('have readable names and units, in reading order; ids and groups left out', () => {
    const rows = settingRows({
      lr: 0.002,
      epochs: 25,
      seed: 1,
      batchSize: 32,
      tauCe: 0.07,
      classIds: [1, 2],
      groups: [['{}']],
      somethingNew: 3,
      augViews: 0,
      classes: ['ant', 'bee']
    });
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey.lr).toMatchObject({ name: 'Learning rate', value: '0.002 (SGD, cosine decay)' });
    expect(byKey.epochs).toMatchObject({ name: 'Epochs', value: '25 epochs' });
    expect(byKey.batchSize).toMatchObject({ name: 'Batch size', value: '32 images' });
    expect(byKey.tauCe!.value).toBe('0.07 (temperature)');
    expect(byKey.augViews!.value).toMatch(/none/);
    expect(byKey.classes!.value).toBe('2: ant, bee');
    expect(byKey.somethingNew).toMatchObject({ name: 'Something new', value: '3' });
    expect(settingRows({ deviations: ['one', 'two'] })[0]).toMatchObject({ name: 'Deviations from the published method', value: 'one; two' });
    expect(byKey.classIds).toBeUndefined();
    expect(byKey.groups).toBeUndefined();
    expect(rows.at(-1)!.key).toBe('somethingNew');
    expect(rows.findIndex((r) => r.key === 'seed')).toBeLessThan(rows.findIndex((r) => r.key === 'lr'));
  });
});

describe('report.html', () => {
  const input: ReportInput = {
    run: {
      id: 'mocoop-1',
      method: 'mocoop',
      status: 'done',
      settings: { lr: 0.002, epochs: 2, groups: [['a photo of the hard to see {}.'], ['itap of a {}.']] },
      backend: 'cpu',
      modelId: 'tiny',
      createdAt: '2026-01-01',
      finishedAt: null
    },
    evaluation: {
      accuracy: 0.5,
      base_accuracy: 0.6,
      new_accuracy: 0.4,
      h: 0.48,
      images: 4,
      per_class: [
        { class: 'ant', role: 'base', images: 2, correct: 1, accuracy: 0.5 },
        { class: 'bee <b>', role: 'new', images: 2, correct: 1, accuracy: 0.5 }
      ],
      confusion: { classes: ['ant'], counts: [[2]], base: { classes: ['ant'], counts: [[2]] }, new: { classes: ['bee <b>'], counts: [[2]] } },
      expert_usage: { load: [3, 1], router_agrees_with_p_hard: 0.75 }
    },
    steps: [1, 2, 3].map((i) => ({ step: i, epoch: i, loss: 3 - i / 2, l_ce: 1, l_gate: 0.1, l_text: 0.2, lr: 0.002 })),
    predictions: [],
    codeVersion: 'test',
    project: 'p'
  };
  const html = reportHtml(input);
  it('gives every chart axis titles, keeps expert labels whole and names the settings', () => {
    const charts = html.match(/<svg[\s\S]*?<\/svg>/g)!;
    expect(charts).toHaveLength(3);
    for (const chart of charts) expect(chart).toContain('data-axis="x"');
    expect(html).toContain('>expert 1 · a photo of the hard to see {}.</text>');
    expect(html).toContain('<th title="lr">Learning rate</th><td>0.002 (SGD, cosine decay)</td>');
    expect(html).toContain('base class (trained on)');
    expect(html).toContain('bee &lt;b&gt;');
    expect(html).not.toContain('bee <b>');
  });
  it('prints well: a page size, nothing split inside a chart or a table row, colours kept', () => {
    expect(html).toMatch(/@page\{size:A4/);
    expect(html).toMatch(/@media print\{[\s\S]*break-inside:avoid/);
    expect(html).toContain('print-color-adjust:exact');
  });
});

describe('axes that hold every value', () => {
  it('extend the round ticks to the first at or above the largest value', () => {
    expect(coveringTicks(0, 72, 4)).toEqual([0, 20, 40, 60, 80]);
    expect(coveringTicks(0, 14.6, 5)).toEqual([0, 5, 10, 15]);
    expect(coveringTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
  it('draw the largest bar inside the plot', () => {
    const svg = barChart(
      [
        { label: 'a', value: 72 },
        { label: 'b', value: 3 }
      ],
      { title: 't', format: String, axisLabel: 'images' }
    );
    expect(texts(svg)).toContain('80');
    const widths = [...svg.matchAll(/<rect x="(\d+)" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[2]));
    expect(Math.max(...widths)).toBeLessThan(720 - 20);
  });
});
