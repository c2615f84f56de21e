import type { ExpertTable } from './inference';

/**
 * An expert table as bytes: a JSON header (sizes, K, τ_gate, mixing, logit scale) then the float32
 * arrays back to back. Tables written before the logit scale was recorded decode without one.
 */
export function encodeTable(table: ExpertTable): Buffer {
  const arrays = [
    table.features,
    table.W,
    table.b,
    table.groupFeatures ?? new Float32Array(0),
    table.linear?.weights ?? new Float32Array(0),
    table.linear?.bias ?? new Float32Array(0),
    ...(table.conditional ? [table.conditional.ctx, table.conditional.W1, table.conditional.b1, table.conditional.W2, table.conditional.b2] : [])
  ];
  const header = Buffer.from(
    JSON.stringify({
      experts: table.experts,
      classes: table.classes,
      dim: table.dim,
      topK: table.topK,
      tauGate: table.tauGate ?? 0.07,
      mixing: table.mixing ?? 'cosine',
      ...(table.logitScale !== undefined ? { logitScale: table.logitScale } : {}),
      ...(table.conditional
        ? { conditional: { contextLength: table.conditional.contextLength, width: table.conditional.width, hidden: table.conditional.hidden } }
        : {}),
      lengths: arrays.map((a) => a.length)
    })
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return Buffer.concat([len, header, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
}

interface TableHeader {
  experts: number;
  classes: number;
  dim: number;
  topK: number;
  tauGate: number;
  mixing?: 'cosine' | 'dot';
  logitScale?: number;
  conditional?: { contextLength: number; width: number; hidden: number };
  lengths: number[];
}

function readHeader(bytes: Buffer): { header: TableHeader; end: number } {
  const n = bytes.readUInt32LE(0);
  return { header: JSON.parse(bytes.subarray(4, 4 + n).toString('utf8')) as TableHeader, end: 4 + n };
}

/** What kind of table the bytes hold, from the header alone (no arrays copied): a linear probe's, or CoCoOp's conditional one. */
export function tableKind(bytes: Buffer): { linear: boolean; conditional: boolean } {
  const { header } = readHeader(bytes);
  return { linear: (header.lengths[5] ?? 0) > 0, conditional: header.conditional !== undefined };
}

export function decodeTable(bytes: Buffer): ExpertTable {
  const { header: h, end } = readHeader(bytes);
  let offset = end;
  const arrays = h.lengths.map((length) => {
    const copy = new Uint8Array(length * 4);
    copy.set(bytes.subarray(offset, offset + length * 4));
    offset += length * 4;
    return new Float32Array(copy.buffer);
  });
  return {
    experts: h.experts,
    classes: h.classes,
    dim: h.dim,
    topK: h.topK,
    tauGate: h.tauGate,
    mixing: h.mixing ?? 'cosine',
    ...(typeof h.logitScale === 'number' ? { logitScale: h.logitScale } : {}),
    features: arrays[0]!,
    W: arrays[1]!,
    b: arrays[2]!,
    groupFeatures: arrays[3]!.length ? arrays[3] : undefined,
    linear: arrays[5]?.length ? { weights: arrays[4]!, bias: arrays[5]! } : undefined,
    ...(h.conditional ? { conditional: { ...h.conditional, ctx: arrays[6]!, W1: arrays[7]!, b1: arrays[8]!, W2: arrays[9]!, b2: arrays[10]! } } : {})
  };
}
