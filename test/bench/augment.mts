/**
 * Augmentation cost per training step on the CPU backend (ONNX Runtime on the CPU), for both modes:
 * - fresh: every step renders a new view of each of its B images (decode once, crop, Pillow bicubic
 *   resize, flip) and encodes them with the image tower;
 * - pool: N views per image encoded once before training (reported per image and for the whole pool),
 *   then a step only picks one cached view per image.
 * Run alone: BENCH_ONLY=augment npm run bench (knobs: BENCH_AUGMENT_BATCH, BENCH_AUGMENT_IMAGES, BENCH_AUGMENT_VIEWS).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FreshViews, PoolViews, encodePoolViews } from '../../src-main/clip/augment';
import { initBackend } from '../../src-main/clip/backend';
import { ClipEngine } from '../../src-main/clip/engine';
import { makeImage } from '../helpers/images';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function benchAugmentation(modelDir: string): Promise<Record<string, unknown>> {
  const batch = Number(process.env.BENCH_AUGMENT_BATCH ?? 32);
  const count = Number(process.env.BENCH_AUGMENT_IMAGES ?? 64);
  const views = Number(process.env.BENCH_AUGMENT_VIEWS ?? 8);
  const steps = Number(process.env.BENCH_AUGMENT_STEPS ?? 3);
  const tokenizer = path.resolve('..', 'shared', 'fixtures', 'tokenizer');
  for (const f of ['vocab.json', 'merges.txt']) if (!fs.existsSync(path.join(modelDir, f))) fs.copyFileSync(path.join(tokenizer, f), path.join(modelDir, f));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-bench-augment-'));
  const provider = process.env.MOCOOP_ONNX_PROVIDER;
  process.env.MOCOOP_ONNX_PROVIDER = 'cpu';
  await initBackend((process.env.MOCOOP_BACKEND as 'auto') ?? 'auto');
  const engine = ClipEngine.load(modelDir);
  try {
    const images = [];
    for (let i = 0; i < count; i++)
      images.push({ path: await makeImage(path.join(dir, `img_${i}.jpg`), i + 1, { width: 500, height: 375 }), hash: `bench-${i}` });
    const towers = await engine.frozenTowers();
    log(`augment: ${count} images 500×375, batch ${batch}, image tower: ${towers.detail}`);
    // Warm-up: opens the image tower.
    await engine.embedPixels(new Float32Array(3 * engine.imageSize * engine.imageSize), 1);

    // Fresh: steps over the set in order, the next batch prepared while this one is encoded.
    const fresh = new FreshViews(engine, images, 1);
    const order = Array.from({ length: count }, (_, n) => n);
    const batches = Array.from({ length: Math.max(1, Math.floor(count / batch)) }, (_, s) => order.slice(s * batch, (s + 1) * batch));
    const freshTimes: number[] = [];
    for (let s = 0; s < steps; s++) {
      const b = batches[s % batches.length]!;
      const next = batches[(s + 1) % batches.length]!;
      const t0 = performance.now();
      await fresh.features(Math.floor(s / batches.length), b, s + 1 < steps ? { epoch: Math.floor((s + 1) / batches.length), indices: next } : undefined);
      freshTimes.push((performance.now() - t0) / 1000);
    }
    // The first step decodes every image of its batch; later ones reuse the decoded images.
    const freshStep = freshTimes.length > 1 ? freshTimes.slice(1).reduce((a, b) => a + b, 0) / (freshTimes.length - 1) : freshTimes[0]!;
    log(`augment fresh: ${freshStep.toFixed(2)} s per step of ${batch} (first step ${freshTimes[0]!.toFixed(2)} s)`);

    // Pool: N views per image encoded once, then one cached view per image per step.
    const cache = new Map<number, Map<string, Float32Array>>();
    const t0 = performance.now();
    const { pool, encoded } = await encodePoolViews(engine, images, 1, views, {
      cached: () => new Map(),
      store: (key, items) => {
        if (!cache.has(key)) cache.set(key, new Map());
        items.forEach((it) => cache.get(key)!.set(it.hash, it.vector));
      }
    });
    const poolSeconds = (performance.now() - t0) / 1000;
    const sampler = new PoolViews(
      images.map((im) => pool.get(im.hash)!),
      1
    );
    const t1 = performance.now();
    const sampledSteps = 200;
    for (let s = 0; s < sampledSteps; s++) await sampler.features(Math.floor(s / batches.length), batches[s % batches.length]!);
    const poolStep = (performance.now() - t1) / 1000 / sampledSteps;
    log(
      `augment pool: ${poolSeconds.toFixed(1)} s to encode ${encoded} views once (${(poolSeconds / encoded).toFixed(3)} s per view), ${(poolStep * 1e6).toFixed(0)} µs per step`
    );
    return {
      backend: towers.detail,
      images: count,
      batch,
      fresh: { secondsPerStep: r3(freshStep), firstStepSeconds: r3(freshTimes[0]!), viewsPerSecond: r3(batch / freshStep) },
      pool: {
        views,
        encodedViews: encoded,
        secondsToEncodePool: r3(poolSeconds),
        secondsPerView: r3(poolSeconds / encoded),
        secondsPerStep: poolStep,
        upFrontSecondsPerImage: r3((poolSeconds / encoded) * views)
      },
      cores: os.cpus().length
    };
  } finally {
    engine.dispose();
    if (provider === undefined) delete process.env.MOCOOP_ONNX_PROVIDER;
    else process.env.MOCOOP_ONNX_PROVIDER = provider;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Run directly: node --import tsx test/bench/augment.mts [MODEL_DIR]
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const { ensureRandomModel } = await import('./clip.mts');
  const result = await benchAugmentation(process.argv[2] ?? ensureRandomModel());
  process.stdout.write(JSON.stringify({ augmentation: result }, null, 2) + '\n');
}
