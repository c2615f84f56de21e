import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../src-main/clip/safetensors';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/temp';
import { TINY_CLIP } from '../helpers/fixtures';

const FIXTURE = TINY_CLIP;

/** A copy of the tiny CLIP fixture with one value of `tensor` replaced by `value`. */
function poisoned(dir: string, tensor: string, index: number, value: number): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'vocab.json', 'merges.txt']) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  const bytes = Buffer.from(fs.readFileSync(path.join(FIXTURE, 'model.safetensors')));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
  expect(header[tensor].dtype).toBe('F32');
  bytes.writeFloatLE(value, 8 + n + header[tensor].data_offsets[0] + 4 * index);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), bytes);
  return dir;
}

describe('non-finite weights are refused at load', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  it.each([
    ['NaN', Number.NaN, /NaN/],
    ['+Infinity', Number.POSITIVE_INFINITY, /\+Infinity/],
    ['-Infinity', Number.NEGATIVE_INFINITY, /-Infinity/]
  ])('a tensor holding %s: readFloat32 names the file and the tensor', (label, value, shown) => {
    const dir = poisoned(path.join(tmp.dir, `read-${label}`), 'text_model.final_layer_norm.weight', 3, value);
    const st = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    try {
      expect(() => st.readFloat32('text_model.final_layer_norm.weight')).toThrow(
        /model\.safetensors: tensor "text_model\.final_layer_norm\.weight" holds 1 non-finite value \(the first, at index 3 /
      );
      expect(() => st.readFloat32('text_model.final_layer_norm.weight')).toThrow(shown);
      // Other tensors of the same file still read.
      expect(st.readFloat32('logit_scale')[0]).toBeCloseTo(Math.log(100), 5);
    } finally {
      st.close();
    }
  });

  it('embed-text with NaN weights fails with the file and tensor named (no null embeddings, no exit 0)', async () => {
    const dir = poisoned(path.join(tmp.dir, 'cli'), 'text_model.embeddings.token_embedding.weight', 0, Number.NaN);
    const result = await runCli(['embed-text', '--model', dir, '--backend', 'cpu', '--json', 'a photo of a cat'], tmp.dir);
    expect(result.stdout).not.toContain('null');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(path.join(dir, 'model.safetensors'));
    expect(result.stderr).toContain('"text_model.embeddings.token_embedding.weight" holds 1 non-finite value');
    expect(result.stderr).not.toMatch(/unexpected error/);
  });
});
