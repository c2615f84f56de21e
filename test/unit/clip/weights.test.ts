import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseClipConfig } from '../../../src-main/clip/config';
import { loadClipModel } from '../../../src-main/clip/model';
import { SafetensorsFile, toFloat32 } from '../../../src-main/clip/safetensors';
import { tf } from '../../../src-main/clip/tf';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf-backend';

const FIXTURE = TINY_CLIP;

function writeSafetensors(file: string, header: Record<string, unknown>, data: Buffer): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
}

/** A copy of the fixture folder with model.safetensors rewritten by `edit` (header and data). */
function variant(
  dir: string,
  edit: (header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>, data: Buffer) => Buffer | void
): string {
  const out = path.join(dir, 'model');
  fs.mkdirSync(out, { recursive: true });
  for (const f of ['config.json', 'vocab.json', 'merges.txt']) fs.copyFileSync(path.join(FIXTURE, f), path.join(out, f));
  const bytes = fs.readFileSync(path.join(FIXTURE, 'model.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
  let data: Buffer = Buffer.from(bytes.subarray(8 + n));
  data = (edit(header, data) as Buffer | undefined) ?? data;
  writeSafetensors(path.join(out, 'model.safetensors'), header, data);
  return out;
}

describe('safetensors and config validation', () => {
  let tmp: ReturnType<typeof tempDir>;
  useBackend('cpu');
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('reads the fixture and every tensor has the shape the config implies', () => {
    const st = SafetensorsFile.open(path.join(FIXTURE, 'model.safetensors'));
    expect(st.entries.get('visual_projection.weight')?.shape).toEqual([24, 48]);
    expect(st.readFloat32('logit_scale')[0]).toBeCloseTo(Math.log(100), 5);
    st.close();
  });

  it('widens F16 and BF16 exactly', () => {
    const f16 = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]).buffer);
    expect(Array.from(toFloat32(f16, 'F16', 'x'))).toEqual([1, -2, 0.333251953125, 2 ** -24, Infinity]);
    const bf16 = Buffer.from(new Uint16Array([0x3f80, 0xc040, 0x3eaa]).buffer);
    expect(Array.from(toFloat32(bf16, 'BF16', 'x'))).toEqual([1, -3, 0.33203125]);
  });

  it('refuses a truncated file, naming the file and the tensor', () => {
    const file = path.join(tmp.dir, 'cut.safetensors');
    const bytes = fs.readFileSync(path.join(FIXTURE, 'model.safetensors'));
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1000));
    expect(() => SafetensorsFile.open(file)).toThrow(/cut\.safetensors: tensor "[^"]+" ends at byte \d+ .*truncated/);
  });

  it('refuses a header whose offsets lie (overlap, wrong length) and a header that is not JSON', () => {
    const overlap = path.join(tmp.dir, 'overlap.safetensors');
    writeSafetensors(
      overlap,
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      Buffer.alloc(12)
    );
    expect(() => SafetensorsFile.open(overlap)).toThrow(/overlap/);
    const wrong = path.join(tmp.dir, 'wrong.safetensors');
    writeSafetensors(wrong, { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8));
    expect(() => SafetensorsFile.open(wrong)).toThrow(/"a" claims bytes \[0, 8\) but shape \[3\]/);
    const garbage = path.join(tmp.dir, 'garbage.safetensors');
    fs.writeFileSync(garbage, Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{oops')]));
    expect(() => SafetensorsFile.open(garbage)).toThrow(/not valid JSON/);
    const huge = path.join(tmp.dir, 'huge.safetensors');
    fs.writeFileSync(huge, Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]));
    expect(() => SafetensorsFile.open(huge)).toThrow(/does not fit/);
  });

  it('refuses a missing tensor and a mis-shaped tensor by name', () => {
    const missing = variant(path.join(tmp.dir, 'm'), (h) => {
      delete h['text_model.final_layer_norm.weight'];
    });
    expect(() => loadClipModel(missing)).toThrow(/missing, e\.g\. "text_model\.final_layer_norm\.weight"/);
    const misshaped = variant(path.join(tmp.dir, 's'), (h) => {
      h['visual_projection.weight']!.shape = [48, 24];
    });
    expect(() => loadClipModel(misshaped)).toThrow(/"visual_projection\.weight" has shape \[48, 24\], but config\.json implies \[24, 48\]/);
  });

  it('refuses configs that do not parse or do not describe CLIP, naming the field', () => {
    const config = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'config.json'), 'utf8'));
    expect(() => parseClipConfig({ ...config, text_config: { ...config.text_config, hidden_size: 'big' } })).toThrow(/text_config\.hidden_size/);
    expect(() => parseClipConfig({ ...config, vision_config: { ...config.vision_config, hidden_act: 'gelu' } })).toThrow(/quick_gelu/);
    expect(() => parseClipConfig({})).toThrow(/config\.json/);
    const dir = path.join(tmp.dir, 'badjson');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{ nope');
    expect(() => loadClipModel(dir)).toThrow(/config\.json: is not valid JSON/);
  });

  it('loads a folder whose weights are F16 and gives nearly the same features', () => {
    const f16dir = variant(path.join(tmp.dir, 'h'), (h, data) => {
      const parts: Buffer[] = [];
      let offset = 0;
      for (const [name, e] of Object.entries(h)) {
        if (name === '__metadata__') continue;
        const f = new Float32Array(data.buffer.slice(data.byteOffset + e.data_offsets[0], data.byteOffset + e.data_offsets[1]));
        const half = new Uint16Array(f.length);
        const tmpF = new Float32Array(1);
        const tmpU = new Uint32Array(tmpF.buffer);
        for (let i = 0; i < f.length; i++) {
          tmpF[0] = f[i]!;
          const x = tmpU[0]!;
          const sign = (x >>> 16) & 0x8000;
          const exp = ((x >>> 23) & 0xff) - 127 + 15;
          half[i] = exp <= 0 ? sign : exp >= 31 ? sign | 0x7c00 : sign | (exp << 10) | (((x >>> 13) & 0x3ff) + ((x >>> 12) & 1));
        }
        const b = Buffer.from(half.buffer);
        e.dtype = 'F16';
        e.data_offsets = [offset, offset + b.length];
        offset += b.length;
        parts.push(b);
      }
      return Buffer.concat(parts);
    });
    const model = loadClipModel(f16dir);
    const reference = loadClipModel(FIXTURE);
    const ids = [[49406, 320, 1125, 539, 320, 2368, 269, 49407]];
    const a = model.text.encodeIds(ids, [7]);
    const b = reference.text.encodeIds(ids, [7]);
    const diff = Math.max(...Array.from(tf.sub(a, b).abs().dataSync()));
    expect(diff).toBeLessThan(0.02);
    expect(diff).toBeGreaterThan(0);
    tf.dispose([a, b]);
    model.dispose();
    reference.dispose();
  });
});
