/** `mocoop tokenize | embed-text | embed-image`: the CLIP model on its own. */
import path from 'node:path';
import { initBackend } from '../../clip/backend';
import { readClipConfig } from '../../clip/config';
import { ClipTokenizer } from '../../clip/tokenizer';
import { AppError } from '../../contract/errors';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { print, backendFlag } from '../common';

export async function clipCommand(command: 'tokenize' | 'embed-text' | 'embed-image', args: ParsedArgs): Promise<void> {
  checkFlags(args, ['model', 'backend', 'json', 'debug']);
  const dir = stringFlag(args, 'model');
  if (!dir) throw new UsageError(`${command} needs --model DIR (a HuggingFace CLIP folder).`);
  const inputs = args.positional.slice(1);
  if (inputs.length === 0) throw new UsageError(command === 'embed-image' ? 'Give one or more image files.' : 'Give one or more texts.');
  const json = args.flags.has('json');
  if (command === 'tokenize') {
    // The tokenizer files and config.json's context length only: no weights, no backend.
    let ids: number[][];
    let tokenizer: ClipTokenizer;
    try {
      const modelDir = path.resolve(dir);
      const contextLength = readClipConfig(modelDir).text.contextLength;
      tokenizer = ClipTokenizer.fromFiles(path.join(modelDir, 'vocab.json'), path.join(modelDir, 'merges.txt'));
      ids = tokenizer.tokenize(inputs, contextLength).map((row) => Array.from(row));
    } catch (error) {
      throw new AppError('bad_source', (error as Error).message);
    }
    print(json, { input_ids: ids }, ids.map((row, i) => `${inputs[i]}\t${row.slice(0, tokenizer.eotIndex(row) + 1).join(' ')}`).join('\n'));
    return;
  }
  const backend = await initBackend(backendFlag(args));
  const { ClipEngine } = await import('../../clip/engine');
  let engine;
  try {
    engine = ClipEngine.load(path.resolve(dir));
  } catch (error) {
    throw new AppError('bad_source', (error as Error).message);
  }
  try {
    let vectors: Float32Array[];
    if (command === 'embed-text') vectors = await engine.embedTextsAsync(inputs);
    else {
      const results = await engine.embedImageFiles(inputs.map((f) => path.resolve(f)));
      const failed = results.find((r) => r.error);
      if (failed) throw new AppError('bad_source', `${inputs[failed.index]}: ${failed.error}`);
      vectors = results.map((r) => r.vector!);
    }
    const embeddings = vectors.map((v) => Array.from(v));
    print(
      json,
      { embeddings },
      `${embeddings.length} embedding(s) of ${engine.dim} values on ${backend.name} (${backend.device})\n` +
        embeddings
          .map(
            (e, i) =>
              `${inputs[i]}\t${e
                .slice(0, 4)
                .map((x) => x.toFixed(4))
                .join(' ')} …`
          )
          .join('\n')
    );
  } finally {
    engine.dispose();
  }
}
