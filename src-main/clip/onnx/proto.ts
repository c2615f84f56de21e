/**
 * The subset of ONNX's protobuf schema (onnx.proto) needed to write an inference graph: model, graph,
 * node, attribute, tensor and value-info messages. A message is encoded as a list of byte chunks, so
 * large weights are referenced, not copied, until the one final concatenation.
 */

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;

class Message {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number | bigint): void {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(data.length);
    this.push(data);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, child: Message): this {
    this.tag(field, WIRE_BYTES);
    this.varint(child.length);
    for (const chunk of child.chunks) this.push(chunk);
    return this;
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new Message();
    for (const v of values) inner.varint(v);
    return this.message(field, inner);
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface TensorSpec {
  name: string;
  dims: number[];
  type: DataTypeId;
  /** Little-endian element bytes (a view of a typed array is referenced, not copied). */
  data: Uint8Array;
}

/** A dimension is a fixed size or a symbolic name (batch, tokens). */
export interface ValueSpec {
  name: string;
  type: DataTypeId;
  dims: (number | string)[];
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function attribute(name: string, value: AttributeValue): Message {
  const m = new Message().string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`ONNX attribute ${name}: ${value} is not an integer; pass { float } for a float.`);
    return m.int(20, ATTR_INT).int(3, value);
  }
  if (typeof value === 'string') return m.int(20, ATTR_STRING).bytes(4, new TextEncoder().encode(value));
  if (Array.isArray(value)) return m.int(20, ATTR_INTS).packedInts(8, value);
  if ('float' in value) return m.int(20, ATTR_FLOAT).float(2, value.float);
  const floats = new Message();
  for (const f of value.floats) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, f, true);
    floats.chunks.push(bytes);
    floats.length += 4;
  }
  return m.int(20, ATTR_FLOATS).message(7, floats);
}

function node(spec: NodeSpec): Message {
  const m = new Message();
  for (const input of spec.inputs) m.string(1, input);
  for (const output of spec.outputs) m.string(2, output);
  if (spec.name) m.string(3, spec.name);
  m.string(4, spec.op);
  for (const [name, value] of Object.entries(spec.attributes ?? {})) m.message(5, attribute(name, value));
  return m;
}

function tensor(spec: TensorSpec): Message {
  const m = new Message().packedInts(1, spec.dims).int(2, spec.type).string(8, spec.name);
  return m.bytes(9, spec.data);
}

function valueInfo(spec: ValueSpec): Message {
  const shape = new Message();
  for (const d of spec.dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, spec.type).message(2, shape);
  return new Message().string(1, spec.name).message(2, new Message().message(1, tensorType));
}

/** Serialises a graph as an ONNX ModelProto (IR version 8, default domain at `opset`). */
export function encodeModel(graph: GraphSpec, opset = 17, producer = 'mocoop-workbench'): Uint8Array {
  const g = new Message();
  for (const n of graph.nodes) g.message(1, node(n));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, tensor(t));
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  const model = new Message().int(1, 8).string(2, producer).message(7, g).message(8, new Message().string(1, '').int(2, opset));
  return model.toBytes();
}
