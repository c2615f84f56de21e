/**
 * A safetensors reader: 8-byte little-endian header length, a JSON header naming every tensor's
 * dtype, shape and [begin, end) byte range of the data section, then the raw data. Tensors are read
 * one at a time from the file, so loading never holds the whole file in memory.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { openRegularFile, unreadableReason } from './regular-file';

export type SafeDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const MAX_HEADER = 100 * 2 ** 20;

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

const Entry = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])
});

/** A tensor name (or other text from the header) for a message: quoted and cut, as a hostile header may hold anything. */
const shownName = (name: string) => JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);

/** A header value for a message without serialising it whole (it may be nested 100,000 levels deep). */
function shownValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return shownName(value);
  if (!Array.isArray(value)) return 'an object';
  return value.length <= 8 && value.every((v) => v === null || typeof v !== 'object') ? `[${value.map(shownValue).join(', ')}]` : `an array of ${value.length}`;
}

/** What is wrong with one tensor's header entry, in a sentence naming the tensor and the field. */
function malformedEntry(name: string, raw: unknown, issue: z.core.$ZodIssue): string {
  const want = 'must be {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}';
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return `the header entry of tensor ${shownName(name)} ${want}, but it is ${shownValue(raw)}.`;
  const field = String(issue.path[0] ?? '');
  const value = (raw as Record<string, unknown>)[field];
  const rule =
    field === 'dtype' ? 'a dtype name such as "F32"' : field === 'shape' ? 'a list of whole numbers from 0' : 'two whole byte offsets from 0, [begin, end]';
  return `tensor ${shownName(name)}: its ${field} must be ${rule}, but it is ${shownValue(value)}.`;
}

export class SafetensorsFile {
  private constructor(
    readonly file: string,
    private readonly fd: number,
    readonly dataStart: number,
    readonly entries: Map<string, TensorEntry>,
    readonly metadata: Record<string, string>
  ) {}

  static open(file: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openRegularFile(file);
    } catch (error) {
      throw new SafetensorsError(`${file}: cannot be opened (${unreadableReason(error)}).`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < 8) throw new SafetensorsError(`${file}: truncated (${size} bytes); a safetensors file starts with an 8-byte header length.`);
      const lenBuf = Buffer.alloc(8);
      fs.readSync(fd, lenBuf, 0, 8, 0);
      const headerLength = lenBuf.readBigUInt64LE(0);
      if (headerLength > BigInt(MAX_HEADER) || Number(headerLength) + 8 > size) {
        throw new SafetensorsError(
          `${file}: the header length (${headerLength} bytes) does not fit in the file (${size} bytes); the file is truncated or not safetensors.`
        );
      }
      const header = Buffer.alloc(Number(headerLength));
      fs.readSync(fd, header, 0, header.length, 8);
      let json: unknown;
      try {
        json = JSON.parse(header.toString('utf8'));
      } catch {
        throw new SafetensorsError(`${file}: the header is not valid JSON; the file is damaged or not safetensors.`);
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError(`${file}: the header is not a JSON object.`);
      const dataStart = 8 + Number(headerLength);
      const dataLength = size - dataStart;
      const entries = new Map<string, TensorEntry>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
        if (name === '__metadata__') {
          // Text to text by the format; anything else there is ignored (nothing reads it).
          if (raw !== null && typeof raw === 'object' && !Array.isArray(raw))
            metadata = Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
          continue;
        }
        const parsed = Entry.safeParse(raw);
        if (!parsed.success)
          throw new SafetensorsError(
            `${file}: ${malformedEntry(name, raw, parsed.error.issues[0]!)} The file is damaged or not safetensors; download or export it again.`
          );
        const {
          dtype,
          shape,
          data_offsets: [begin, end]
        } = parsed.data;
        const width = BYTES[dtype];
        if (width === undefined)
          throw new SafetensorsError(
            `${file}: tensor ${shownName(name)} has unknown dtype ${shownName(dtype)} (safetensors knows F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL).`
          );
        const count = shape.reduce((a, b) => a * b, 1);
        if (end < begin || end - begin !== count * width) {
          throw new SafetensorsError(
            `${file}: tensor ${shownName(name)} claims bytes [${begin}, ${end}) but shape [${shape.join(', ')}] of ${dtype} needs ${count * width} bytes.`
          );
        }
        if (end > dataLength) {
          throw new SafetensorsError(
            `${file}: tensor ${shownName(name)} ends at byte ${end} of the data section, but the file holds only ${dataLength} data bytes (truncated download?).`
          );
        }
        entries.set(name, { name, dtype, shape, begin, end });
      }
      const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin);
      for (let i = 1; i < sorted.length; i++) {
        if (sorted[i]!.begin < sorted[i - 1]!.end) {
          throw new SafetensorsError(
            `${file}: tensors ${shownName(sorted[i - 1]!.name)} and ${shownName(sorted[i]!.name)} overlap; the header lies about offsets (the file is damaged or was not written by a safetensors writer).`
          );
        }
      }
      return new SafetensorsFile(file, fd, dataStart, entries, metadata);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  /** Reads one tensor as float32 (F16 and BF16 are widened). */
  readFloat32(name: string): Float32Array {
    const entry = this.entries.get(name);
    if (!entry) throw new SafetensorsError(`${this.file}: has no tensor "${name}".`);
    const bytes = Buffer.alloc(entry.end - entry.begin);
    const read = fs.readSync(this.fd, bytes, 0, bytes.length, this.dataStart + entry.begin);
    if (read !== bytes.length) throw new SafetensorsError(`${this.file}: tensor "${name}" is cut short (${read} of ${bytes.length} bytes).`);
    const values = toFloat32(bytes, entry.dtype, `${this.file}: tensor "${name}"`);
    assertFinite(values, `${this.file}: tensor "${name}"`);
    return values;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

const f16Table = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    table[h] = exp === 0 ? sign * 2 ** -14 * (frac / 1024) : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return table;
})();

/**
 * Refuses NaN and ±Infinity: weights with one would silently turn every feature, loss and accuracy
 * computed from them into NaN (null embeddings, chance-level zero-shot) instead of failing.
 */
export function assertFinite(values: Float32Array, what: string): void {
  let first = -1;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity.
    if (x - x !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first >= 0) {
    const x = values[first]!;
    throw new SafetensorsError(
      `${what} holds ${count} non-finite value${count === 1 ? '' : 's'} (the first, at index ${first} of ${values.length}, is ${Number.isNaN(x) ? 'NaN' : x > 0 ? '+Infinity' : '-Infinity'}). The weights are damaged or were saved from a diverged model; download or export them again.`
    );
  }
}

export function toFloat32(bytes: Buffer, dtype: string, what: string): Float32Array {
  let aligned: Uint8Array = bytes;
  if (bytes.byteOffset % 4 !== 0) {
    aligned = new Uint8Array(bytes.length);
    aligned.set(bytes);
  }
  const buffer = aligned.buffer as ArrayBuffer;
  const offset = aligned.byteOffset;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer, offset, bytes.length / 4);
    case 'F16': {
      const half = new Uint16Array(buffer, offset, bytes.length / 2);
      const out = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) out[i] = f16Table[half[i]!]!;
      return out;
    }
    case 'BF16': {
      const half = new Uint16Array(buffer, offset, bytes.length / 2);
      const out = new Float32Array(half.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < half.length; i++) bits[i] = half[i]! << 16;
      return out;
    }
    default:
      throw new SafetensorsError(`${what} is ${dtype}; only F32, F16 and BF16 weights are supported.`);
  }
}

/** Writes float32 tensors as a safetensors file (8-byte header length, JSON header, data), atomically. */
export function writeSafetensors(file: string, tensors: Record<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const parts: Buffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new SafetensorsError(`${file}: tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${count}.`);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    parts.push(bytes);
  }
  let json = Buffer.from(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([len, json, ...parts]));
  fs.renameSync(tmp, file);
}
