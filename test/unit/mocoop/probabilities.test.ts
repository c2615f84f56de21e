import { describe, expect, it } from 'vitest';
import { matchRunClasses } from '../../../src-main/mocoop/class-match';
import { type ExpertTable, classProbabilities, runLogitScale } from '../../../src-main/mocoop/inference';
import { predictionsCsv } from '../../../src-main/mocoop/report';
import { decodeTable, encodeTable } from '../../../src-main/mocoop/table-codec';

const softmax = (xs: number[]) => {
  const e = xs.map((x) => Math.exp(x - Math.max(...xs)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('class probabilities under the run’s logit scale', () => {
  it('is softmax(scale · score), so a paper run (1/τ = 14.3) is not as sure as CLIP’s 100 would make it', () => {
    const scores = [0.31, 0.29, 0.2];
    const paper = classProbabilities(scores, 1 / 0.07);
    expect(paper).toEqual(softmax(scores.map((s) => s / 0.07)).map((p) => expect.closeTo(p, 12)));
    expect(paper.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // Scale 100 would give the top class 88% here; 1/τ gives it 51%: the runner-up is not "0.0%".
    expect(paper[0]).toBeCloseTo(0.5104, 4);
    expect(paper[1]).toBeGreaterThan(0.35);
    expect(classProbabilities(scores, 100)[0]).toBeGreaterThan(0.88);
  });

  it('gives −∞ scores (classes a linear probe never saw) probability 0, and all zeros when nothing is scored', () => {
    expect(classProbabilities([2, -Infinity, 1], 1)).toEqual([Math.E / (Math.E + 1), 0, 1 / (Math.E + 1)].map((p) => expect.closeTo(p, 12)));
    expect(classProbabilities([-Infinity, -Infinity], 1)).toEqual([0, 0]);
  });

  it('takes the scale stored with the table, else derives it from the run’s method and settings', () => {
    const run = (method: string, settings: Record<string, unknown> = {}) => ({ method, settings });
    expect(runLogitScale({ logitScale: 20 }, run('mocoop', { preset: 'paper', tauCe: 0.07 }))).toBe(20);
    // Older tables: paper preset → 1/τ_ce from the recorded settings (1/0.07 when none is recorded).
    expect(runLogitScale({}, run('mocoop', { preset: 'paper', tauCe: 0.05 }))).toBeCloseTo(20, 10);
    expect(runLogitScale({}, run('coop', {}))).toBeCloseTo(1 / 0.07, 10);
    // Released-code preset and zero-shot → the model's logit scale (100 when it cannot be read).
    expect(runLogitScale({ mixing: 'dot' }, run('mocoop', { preset: 'released-code', tauCe: 0.07 }), () => 50)).toBe(50);
    expect(runLogitScale({}, run('zeroshot', { preset: 'paper' }), () => undefined)).toBe(100);
    // A linear probe's scores are already logits.
    expect(runLogitScale({ linear: { weights: new Float32Array(0), bias: new Float32Array(0) } }, run('linear-probe'))).toBe(1);
  });

  it('stores the scale with the expert table; a table stored before that decodes without one', () => {
    const table: ExpertTable = {
      experts: 1,
      classes: 2,
      dim: 2,
      features: new Float32Array([1, 0, 0, 1]),
      W: new Float32Array(2),
      b: new Float32Array(1),
      topK: 1,
      logitScale: 1 / 0.07
    };
    expect(decodeTable(encodeTable(table)).logitScale).toBeCloseTo(1 / 0.07, 10);
    const { logitScale: _, ...old } = table;
    const decoded = decodeTable(encodeTable(old));
    expect(decoded.logitScale).toBeUndefined();
    expect(runLogitScale(decoded, { method: 'mocoop', settings: { preset: 'paper', tauCe: 0.1 } })).toBeCloseTo(10, 10);
  });
});

describe('report predictions.csv', () => {
  it('numbers experts from 1, as the app and the Classify CSV do', () => {
    const csv = predictionsCsv([{ path: 'a.jpg', label: 'ant', prediction: 'bee', correct: false, topExperts: [0, 2], topWeights: [0.75, 0.25] }]);
    expect(csv.trim().split('\n')[1]).toBe('a.jpg,ant,bee,0,1;3,0.750000;0.250000');
  });
});

describe('matching a run’s classes to a test project', () => {
  const run = { base: ['ant', 'bee', 'cat'], new: ['dog', 'eel'] };

  it('uses exactly the classes both sides have, keeps each at its own table row, and names the rest per side', () => {
    // The project lacks a base class (bee) and a new one (eel), and has one the run does not know (fly).
    const project = [
      { id: 10, name: 'ant' },
      { id: 11, name: 'cat' },
      { id: 12, name: 'dog' },
      { id: 13, name: 'fly' }
    ];
    const m = matchRunClasses(run, project, false);
    expect(m.used.map((u) => [u.runName, u.row, u.role, u.classId])).toEqual([
      ['ant', 0, 'base', 10],
      ['cat', 2, 'base', 11],
      ['dog', 3, 'new', 12]
    ]);
    expect(m.missing.map((x) => [x.runName, x.row, x.role])).toEqual([
      ['bee', 1, 'base'],
      ['eel', 4, 'new']
    ]);
    expect(m.unknown).toEqual([{ classId: 13, name: 'fly' }]);
  });

  it('in the run’s own project matches by id, so a renamed class is still the run’s', () => {
    const project = [
      { id: 1, name: 'formicid' },
      { id: 2, name: 'bee' },
      { id: 4, name: 'dog' }
    ];
    const m = matchRunClasses({ ...run, baseIds: [1, 2, 3], newIds: [4, 5] }, project, true);
    expect(m.used.map((u) => [u.runName, u.name, u.row])).toEqual([
      ['ant', 'formicid', 0],
      ['bee', 'bee', 1],
      ['dog', 'dog', 3]
    ]);
    expect(m.missing.map((x) => x.runName)).toEqual(['cat', 'eel']);
    expect(m.unknown).toEqual([]);
  });
});
