/**
 * One MoCoOp training step with ViT-B/16-shaped random text weights and G = 5 experts, for C = 10,
 * 50 and 100 classes (as many virtual classes again in the text loss), batch 32.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClipEngine } from '../../src-main/clip/engine';
import { PAPER_DEFAULTS, trainPrompts } from '../../src-main/mocoop/trainer';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

export async function benchTraining(modelDir: string): Promise<Record<string, unknown>> {
  const tokenizer = path.resolve('..', 'shared', 'fixtures', 'tokenizer');
  for (const f of ['vocab.json', 'merges.txt']) if (!fs.existsSync(path.join(modelDir, f))) fs.copyFileSync(path.join(tokenizer, f), path.join(modelDir, f));
  const engine = ClipEngine.load(modelDir, { textGradients: true });
  // Where a step's time goes: the text tower (forward + backward) and, inside it, the loss.
  const gradients = await engine.textGradients();
  const profile = { text: 0, loss: 0 };
  const encodeWithGrad = gradients.encodeWithGrad.bind(gradients);
  Object.assign(gradients, {
    encodeWithGrad: async (...args: Parameters<typeof gradients.encodeWithGrad>) => {
      const started = performance.now();
      const [embeds, eot, dFeatures, groups] = args;
      const out = await encodeWithGrad(
        embeds,
        eot,
        (features) => {
          const t = performance.now();
          const dF = dFeatures(features);
          profile.loss += performance.now() - t;
          return dF;
        },
        groups
      );
      profile.text += performance.now() - started;
      return out;
    }
  });
  const groups = [
    ['a photo of a {}.', 'a good photo of a {}.'],
    ['itap of a {}.', 'art of the {}.'],
    ['a photo of the large {}.', 'a photo of the small {}.'],
    ['a bad photo of the {}.', 'a low resolution photo of a {}.'],
    ['a {} in a video game.', 'a origami {}.']
  ];
  const sizes = (process.env.BENCH_TRAIN_CLASSES ?? '10,50,100').split(',').map(Number);
  const results: Record<string, unknown>[] = [];
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  for (const C of sizes) {
    const names = Array.from({ length: 2 * C }, (_, i) => `object number ${i + 1}`);
    const features = Array.from({ length: 64 }, (_, n) => {
      const v = Float32Array.from({ length: engine.dim }, (_, p) => Math.sin(n * 7 + p));
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    });
    const stamps: number[] = [];
    const atStep: { text: number; loss: number }[] = [];
    const started = performance.now();
    await trainPrompts(
      engine,
      { classNames: names.slice(0, C), virtualNames: names.slice(C), groups, features, labels: features.map((_, n) => n % C) },
      { ...PAPER_DEFAULTS, method: 'mocoop', epochs: 1, lr: 0.002, batchSize: 32 },
      {
        onStep: () => {
          stamps.push(performance.now());
          atStep.push({ ...profile });
        }
      }
    );
    const stepSeconds = (stamps[1]! - stamps[0]!) / 1000;
    const textSeconds = (atStep[1]!.text - atStep[0]!.text - (atStep[1]!.loss - atStep[0]!.loss)) / 1000;
    const lossSeconds = (atStep[1]!.loss - atStep[0]!.loss) / 1000;
    log(
      `C=${C}: ${stepSeconds.toFixed(1)} s per step (${G(groups)} experts × ${2 * C} classes = ${5 * 2 * C} prompts), total with setup ${((performance.now() - started) / 1000).toFixed(1)} s`
    );
    const r2 = (x: number) => Math.round(x * 100) / 100;
    results.push({
      classes: C,
      virtualClasses: C,
      prompts: 5 * 2 * C,
      secondsPerStep: r2(stepSeconds),
      profile: {
        textTowerForwardBackwardSeconds: r2(textSeconds),
        lossAndGradientSeconds: r2(lossSeconds),
        restSeconds: r2(stepSeconds - textSeconds - lossSeconds)
      }
    });
  }
  clearInterval(timer);
  engine.dispose();
  return {
    experts: 5,
    batch: 32,
    textTower: gradients.describe,
    steps: results,
    peakRssMiB: Math.round(peak / 2 ** 20),
    cores: os.cpus().length,
    pytorchOpenblas1ThreadAnchorSecondsPerStep: { C10: 2.1, C50: 11.1 }
  };
}

const G = (groups: string[][]) => groups.length;
