import { describe, expect, it } from 'vitest';
import type { ExpertTable } from '../../../src-main/mocoop/inference';
import { decodeTable, encodeTable, tableKind } from '../../../src-main/mocoop/table-codec';

const floats = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => from + i / 8);
const prompts: ExpertTable = { experts: 2, classes: 3, dim: 4, features: floats(24), W: floats(8), b: floats(2), topK: 1, logitScale: 50 };
const probe: ExpertTable = { ...prompts, experts: 1, features: floats(12), W: floats(4), b: floats(1), linear: { weights: floats(12, 1), bias: floats(3, 2) } };
const cocoop: ExpertTable = {
  ...prompts,
  experts: 1,
  features: new Float32Array(0),
  W: new Float32Array(0),
  b: new Float32Array(0),
  conditional: { contextLength: 4, width: 8, hidden: 2, ctx: floats(32), W1: floats(16), b1: floats(2), W2: floats(16), b2: floats(8) }
};

describe('expert table bytes', () => {
  it('round-trip every kind of table', () => {
    for (const table of [prompts, probe, cocoop]) {
      const back = decodeTable(encodeTable(table));
      expect(back.features).toEqual(table.features);
      expect(back.linear).toEqual(table.linear);
      expect(back.conditional).toEqual(table.conditional);
      expect(back.logitScale).toBe(50);
    }
  });

  it('tell a linear probe’s or a conditional table from the header alone, as decoding does', () => {
    expect(tableKind(encodeTable(prompts))).toEqual({ linear: false, conditional: false });
    expect(tableKind(encodeTable(probe))).toEqual({ linear: true, conditional: false });
    expect(tableKind(encodeTable(cocoop))).toEqual({ linear: false, conditional: true });
  });
});
