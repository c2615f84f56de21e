/**
 * Builds an ONNX graph with readable helpers (one method per op the CLIP towers use); every value is
 * named by the builder, so callers only pass names around.
 */
import { type AttributeValue, DataType, type GraphSpec, type NodeSpec, type TensorSpec, type ValueSpec } from './proto';

const bytesOf = (data: Float32Array | BigInt64Array | Int32Array) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();

  constructor(private readonly name: string) {}

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, dims: (number | string)[], type: ValueSpec['type'] = DataType.FLOAT): string {
    this.inputs.push({ name, dims, type });
    return name;
  }

  output(value: string, name: string, dims: (number | string)[]): void {
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name] });
    this.outputs.push({ name, dims, type: DataType.FLOAT });
  }

  weight(name: string, dims: number[], data: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`ONNX initializer ${name}: ${data.length} values for shape [${dims.join(', ')}].`);
    this.initializers.push({ name, dims, type: DataType.FLOAT, data: bytesOf(data) });
    return name;
  }

  /** A small int64 constant (shapes, axes, indices), shared by value. */
  ints(values: number[], dims: number[] = [values.length]): string {
    const key = `i${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh('const');
      this.initializers.push({ name, dims, type: DataType.INT64, data: bytesOf(BigInt64Array.from(values.map(BigInt))) });
      this.constants.set(key, name);
    }
    return name;
  }

  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh('const');
      this.initializers.push({ name, dims: [], type: DataType.FLOAT, data: bytesOf(Float32Array.of(value)) });
      this.constants.set(key, name);
    }
    return name;
  }

  op(op: string, inputs: string[], attributes?: Record<string, AttributeValue>, hint = op.toLowerCase()): string {
    const out = this.fresh(hint);
    this.nodes.push({ op, inputs, outputs: [out], attributes });
    return out;
  }

  add = (a: string, b: string) => this.op('Add', [a, b]);
  sub = (a: string, b: string) => this.op('Sub', [a, b]);
  mul = (a: string, b: string) => this.op('Mul', [a, b]);
  matMul = (a: string, b: string) => this.op('MatMul', [a, b]);
  transpose = (x: string, perm: number[]) => this.op('Transpose', [x], { perm });
  reshape = (x: string, shape: number[]) => this.op('Reshape', [x, this.ints(shape)]);
  softmax = (x: string, axis = -1) => this.op('Softmax', [x], { axis });
  sigmoid = (x: string) => this.op('Sigmoid', [x]);

  layerNorm(x: string, gamma: string, beta: string, eps: number): string {
    return this.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: eps } }, 'ln');
  }

  /** x·W + b with W stored [in, out]. */
  dense(x: string, wIn: string, bias: string | null): string {
    const y = this.matMul(x, wIn);
    return bias ? this.add(y, bias) : y;
  }

  /** CLIP's activation: x·σ(1.702x). */
  quickGelu(x: string): string {
    return this.mul(x, this.sigmoid(this.mul(x, this.scalar(1.702))));
  }

  build(): GraphSpec {
    return { name: this.name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }
}
