/**
 * CoCoOp's cost with ViT-B/16-shaped random text weights: one training step (batch 1, as its schedule:
 * the text tower forward and backward on C prompts of that image) and scoring (C prompts per image,
 * forward only), for C = 10 and 50 classes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClipEngine } from '../../src-main/clip/engine';
import { COCOOP_PROMPT, trainCoCoOp } from '../../src-main/mocoop/cocoop-trainer';
import { conditionalScoresWith } from '../../src-main/mocoop/cocoop';
import { PAPER_DEFAULTS } from '../../src-main/mocoop/trainer';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const r2 = (x: number) => Math.round(x * 100) / 100;

export async function benchCoCoOp(modelDir: string): Promise<Record<string, unknown>> {
  const tokenizer = path.resolve('..', 'shared', 'fixtures', 'tokenizer');
  for (const f of ['vocab.json', 'merges.txt']) if (!fs.existsSync(path.join(modelDir, f))) fs.copyFileSync(path.join(tokenizer, f), path.join(modelDir, f));
  const engine = ClipEngine.load(modelDir, { textGradients: true });
  const textTower = (await engine.textGradients()).describe;
  const sizes = (process.env.BENCH_COCOOP_CLASSES ?? '10,50').split(',').map(Number);
  const results: Record<string, unknown>[] = [];
  try {
    for (const C of sizes) {
      const names = Array.from({ length: C }, (_, i) => `object number ${i + 1}`);
      const features = Array.from({ length: 4 }, (_, n) => {
        const v = Float32Array.from({ length: engine.dim }, (_, p) => Math.sin(n * 7 + p));
        const norm = Math.hypot(...v);
        return v.map((x) => x / norm);
      });
      const stamps: number[] = [];
      const result = await trainCoCoOp(
        engine,
        { classNames: names, virtualNames: [], groups: [], features, labels: features.map((_, n) => n % C) },
        { ...PAPER_DEFAULTS, method: 'cocoop', epochs: 1, lr: 0.002, batchSize: 1, warmupEpochs: 1, promptTemplate: COCOOP_PROMPT },
        { onStep: () => stamps.push(performance.now()) }
      );
      const stepSeconds = (stamps.at(-1)! - stamps[0]!) / 1000 / (stamps.length - 1);
      const started = performance.now();
      await conditionalScoresWith(engine, result.table.conditional!, names, { promptTemplate: COCOOP_PROMPT, underscoresAsSpaces: true }, features);
      const scoreSeconds = (performance.now() - started) / 1000 / features.length;
      log(`CoCoOp C=${C}: ${stepSeconds.toFixed(2)} s per training step (batch 1), ${scoreSeconds.toFixed(2)} s to score one image`);
      results.push({ classes: C, secondsPerStep: r2(stepSeconds), secondsPerScoredImage: r2(scoreSeconds) });
    }
  } finally {
    engine.dispose();
  }
  return { batch: 1, textTower, steps: results, cores: os.cpus().length };
}
