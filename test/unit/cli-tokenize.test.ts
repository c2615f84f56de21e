/** `mocoop tokenize` reads the tokenizer files and config.json only: a folder without weights tokenizes the same. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { TINY_CLIP } from '../helpers/fixtures';
import { useTempDir } from '../helpers/suite';

describe('mocoop tokenize', () => {
  const tmp = useTempDir();

  it('needs no model weights and gives the ids of the full model folder', async () => {
    const tokenizerOnly = path.join(tmp.dir, 'tokenizer-only');
    fs.mkdirSync(tokenizerOnly);
    for (const file of ['config.json', 'vocab.json', 'merges.txt']) fs.copyFileSync(path.join(TINY_CLIP, file), path.join(tokenizerOnly, file));
    const texts = ['a photo of a cat.', 'Ünïcode, 123 and   spaces'];
    const full = await runCli(['tokenize', '--model', TINY_CLIP, '--json', ...texts], tmp.dir);
    const alone = await runCli(['tokenize', '--model', tokenizerOnly, '--json', ...texts], tmp.dir);
    expect(full.code, full.stderr).toBe(0);
    expect(alone.code, alone.stderr).toBe(0);
    const ids = JSON.parse(alone.stdout).input_ids as number[][];
    expect(ids).toEqual(JSON.parse(full.stdout).input_ids);
    expect(ids).toHaveLength(2);
    expect(ids[0]![0]).toBe(49406);
    expect(ids[0]!.length).toBe(JSON.parse(fs.readFileSync(path.join(TINY_CLIP, 'config.json'), 'utf8')).text_config.max_position_embeddings);
  });
});
