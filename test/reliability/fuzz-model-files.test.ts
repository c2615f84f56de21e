/**
 * Fuzzed CLIP model folders through `models.import` and, when accepted, loading and encoding texts:
 * every input is refused with a sentence naming the file or field, or accepted and works — never a
 * crash, "Something went wrong", a hang, a broken model accepted, or a changed model registry.
 * MOCOOP_FUZZ_SEED picks other cases (the bench runs more: npm run bench, reliability line).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import { ClipTokenizer } from '../../src-main/clip/tokenizer';
import { MODEL_KINDS, packSafetensors } from './fuzz/model-files';
import { FUZZ_SEED, expectCasesHandled, useFuzzWorld } from './fuzz/suite';

const CASES = 24;

describe('fuzzed model files are refused in words or accepted, never a crash', () => {
  const fuzz = useFuzzWorld();

  // The corpus is mostly broken files: most must be refused.
  it.each(MODEL_KINDS)(`%s: ${CASES} generated cases (seed ${FUZZ_SEED})`, (kind) => expectCasesHandled(fuzz.world, kind, CASES, CASES / 2));

  describe('messages the fuzzing asked for', () => {
    /** A copy of the base model folder with one file replaced; the refusal of models.import. */
    const refusal = async (name: string, file: string, content: string | Buffer) => {
      const dir = path.join(fuzz.world.root, 'named', name);
      fs.mkdirSync(dir, { recursive: true });
      for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']) fs.copyFileSync(path.join(fuzz.world.base.dir, f), path.join(dir, f));
      fs.writeFileSync(path.join(dir, file), content);
      const reply = await dispatch(fuzz.world.services.handlers(), 'models.import', { dir }, () => {});
      expect(reply.ok).toBe(false);
      return { dir, error: (reply as { error: { code: string; message: string } }).error };
    };

    it('config.json: a missing or mistyped field is named with what it must be', async () => {
      const config = structuredClone(fuzz.world.base.config);
      delete config.text_config.vocab_size;
      const missing = await refusal('no-vocab-size', 'config.json', JSON.stringify(config));
      expect(missing.error).toEqual({
        code: 'bad_source',
        message: `${path.join(missing.dir, 'config.json')}: text_config.vocab_size is missing. Is this the config.json of a HuggingFace CLIP model (CLIPModel)?`
      });
      config.text_config.vocab_size = '49408';
      config.vision_config = [[[1]]];
      const typed = await refusal('typed', 'config.json', JSON.stringify(config));
      expect(typed.error.message).toBe(
        `${path.join(typed.dir, 'config.json')}: text_config.vocab_size must be a whole number above 0, but it is "49408". Is this the config.json of a HuggingFace CLIP model (CLIPModel)?`
      );
    });

    it('a config.json with a byte order mark is read; one with fewer layers than the weights is refused naming both files', async () => {
      const dir = path.join(fuzz.world.root, 'named', 'bom');
      fs.mkdirSync(dir, { recursive: true });
      for (const f of ['model.safetensors', 'vocab.json', 'merges.txt']) fs.copyFileSync(path.join(fuzz.world.base.dir, f), path.join(dir, f));
      fs.writeFileSync(path.join(dir, 'config.json'), '\ufeff' + JSON.stringify(fuzz.world.base.config));
      const accepted = await dispatch(fuzz.world.services.handlers(), 'models.import', { dir }, () => {});
      expect(accepted.ok).toBe(true);
      const fewer = structuredClone(fuzz.world.base.config);
      fewer.vision_config.num_hidden_layers = 1;
      const { dir: cut, error } = await refusal('fewer-layers', 'config.json', JSON.stringify(fewer));
      expect(error.message).toBe(
        `${path.join(cut, 'model.safetensors')} has 2 vision encoder layers, but config.json vision_config.num_hidden_layers is 1: the two files do not belong together. Use the config.json of the same CLIP model.`
      );
    });

    it('model.safetensors: a malformed header entry and a NaN in a vision weight are refused at import, naming the tensor', async () => {
      const header = structuredClone(fuzz.world.base.weights.header);
      header['vision_model.post_layernorm.bias'].data_offsets = ['0', 4];
      const bad = await refusal('offsets', 'model.safetensors', packSafetensors(header, fuzz.world.base.weights.data));
      expect(bad.error.message).toBe(
        `${path.join(bad.dir, 'model.safetensors')}: tensor "vision_model.post_layernorm.bias": its data_offsets must be two whole byte offsets from 0, [begin, end], but it is ["0", 4]. The file is damaged or not safetensors; download or export it again.`
      );
      const data = Buffer.from(fuzz.world.base.weights.data);
      data.writeFloatLE(Number.NaN, fuzz.world.base.weights.header['vision_model.post_layernorm.bias'].data_offsets[0] + 8);
      const nan = await refusal('nan', 'model.safetensors', packSafetensors(fuzz.world.base.weights.header, data));
      expect(nan.error.message).toMatch(
        /model\.safetensors: tensor "vision_model\.post_layernorm\.bias" holds 1 non-finite value \(the first, at index 2 of 48, is NaN\)/
      );
    });

    it('vocab.json and merges.txt: broken files are TokenizerErrors naming the file; a missing byte symbol and a cut merges.txt are refused at import', async () => {
      const dir = path.join(fuzz.world.root, 'named', 'tok');
      fs.mkdirSync(dir, { recursive: true });
      const vocab = path.join(dir, 'vocab.json');
      fs.writeFileSync(vocab, `{"a": [${'['.repeat(50_000)}${']'.repeat(50_000)}]}`);
      expect(() => ClipTokenizer.fromFiles(vocab, path.join(fuzz.world.base.dir, 'merges.txt'))).toThrow(
        expect.objectContaining({
          name: 'TokenizerError',
          message: `${vocab}: the id of "a" must be a non-negative integer, got an array. The file is damaged or not a CLIP vocab.json; use the one from the same CLIP model folder.`
        })
      );

      const withoutByte = { ...fuzz.world.base.vocab };
      delete withoutByte['Ā</w>'];
      const byte = await refusal('byte', 'vocab.json', JSON.stringify(withoutByte));
      expect(byte.error.message).toBe(
        `${path.join(byte.dir, 'vocab.json')}: the byte symbol "Ā</w>" is missing, so text holding that byte could not be tokenized. Every CLIP vocabulary has all 256 byte symbols, alone and with </w>. The file is damaged or not a CLIP vocab.json; use the one from the same CLIP model folder.`
      );
      const cut = await refusal('cut', 'merges.txt', fuzz.world.base.merges.slice(0, 2001).join('\n') + '\n');
      expect(cut.error.message).toMatch(
        /merges\.txt: no merge makes 1,000 of the tokens in .*vocab\.json \(e\.g\. "[^"]+"\), so words would be split differently .* merges\.txt is cut short \(an interrupted download\?\)/
      );
    });
  });
});
