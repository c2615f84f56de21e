/**
 * `npm run bench`: performance figures as one JSON document on stdout (progress on stderr).
 * - import: throughput of importing generated 640×480 JPEGs (hash, decode, thumbnail, one transaction)
 * - open20k: opening a 20,000-image project and listing the first grid page, as the UI does
 * - map20k: the routing inspector's PCA map of 20,000 CLIP-sized features in its worker thread, and
 *   how long the app's event loop was blocked meanwhile
 * - preprocessing: Pillow-exact crop + normalisation of a 640×480 image to 224 (ms), loading the real
 *   CLIP tokenizer (ms)
 * - cocoop: CoCoOp's training step (batch 1) and per-image scoring with ViT-B/16-shaped text weights
 * - reliability: the fuzz corpus of test/reliability/fuzz (BENCH_RELIABILITY_CASES per kind, default 120)
 *   through the real loaders: inputs tried, refused cleanly, accepted, crashed, unclear messages, data
 *   lost (goal: 0 crashed, 0 unclear, 0 lost)
 * - responsiveness: how soon training stops after train.cancel and after its compute worker dies (ms)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src-main/clip/backend';
import { seededRandom } from '../../src-main/mocoop/fewshot';
import { pca2dInWorker } from '../../src-main/mocoop/pca-thread';
import { AppServices } from '../../src-main/services/app-services';
import { ProjectStore } from '../../src-main/store/project-store';
import { makeImage } from '../helpers/images';
import { benchAugmentation } from './augment.mts';
import { benchClip, ensureRandomModel } from './clip.mts';
import { benchCoCoOp } from './cocoop.mts';
import { benchOnnx } from './onnx.mts';
import { benchPreprocessing } from './preprocess.mts';
import { benchReliability } from './reliability.mts';
import { benchResponsiveness } from './responsiveness.mts';
import { benchTraining } from './train.mts';

const IMPORT_COUNT = Number(process.env.BENCH_IMPORT_COUNT ?? 2000);
const LARGE_COUNT = Number(process.env.BENCH_LARGE_COUNT ?? 20000);
const cacheDir = path.resolve('.bench');
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function generatedImages(count: number): Promise<string> {
  const dir = path.join(cacheDir, `jpeg-640x480-${count}`);
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return dir;
  log(`generating ${count} JPEGs in ${dir} (cached for later runs)`);
  for (let i = 0; i < count; i++)
    await makeImage(path.join(dir, `class_${i % 10}`, `img_${String(i).padStart(5, '0')}.jpg`), i + 1, { width: 640, height: 480 });
  fs.writeFileSync(marker, '');
  return dir;
}

async function benchImport(work: string) {
  const dir = await generatedImages(IMPORT_COUNT);
  const services = new AppServices({ mode: 'web', configDir: path.join(work, 'config'), version: 'bench' });
  services.createProject(path.join(work, 'import-bench.mocoop'));
  const started = performance.now();
  const summary = await services.importSource('bench', { kind: 'folder', dir });
  const seconds = (performance.now() - started) / 1000;
  services.closeProject();
  if (summary.imported !== IMPORT_COUNT) throw new Error(`expected ${IMPORT_COUNT} imported, got ${summary.imported}`);
  return { images: IMPORT_COUNT, width: 640, height: 480, seconds: round(seconds), imagesPerSecond: round(IMPORT_COUNT / seconds), cores: os.cpus().length };
}

function buildLargeProject(file: string): void {
  const store = ProjectStore.create(file, 'large');
  const thumbnail = { mime: 'image/jpeg', data: Buffer.alloc(6000, 7) };
  const batch = Array.from({ length: LARGE_COUNT }, (_, i) => ({
    path: `/data/large/class_${i % 100}/image_${i}.jpg`,
    hash: i.toString(16).padStart(64, '0'),
    width: 640,
    height: 480,
    bytes: 50_000,
    label: i % 3 === 0 ? null : `class_${i % 100}`,
    split: (i % 5 === 0 ? 'test' : 'train') as 'test' | 'train',
    source: 'bench',
    thumbnail
  }));
  store.insertImages(batch, []);
  store.close();
}

function benchOpenLarge(work: string) {
  const file = path.join(work, 'large.mocoop');
  buildLargeProject(file);
  const services = new AppServices({ mode: 'web', configDir: path.join(work, 'config'), version: 'bench' });
  const handlers = services.handlers();
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    services.openProjectFile(file);
    const ids = (handlers['images.ids']({ filter: {} }) as { ids: number[] }).ids;
    handlers['classes.list'](undefined);
    handlers['project.current'](undefined);
    const page = handlers['images.get']({ ids: ids.slice(0, 200) }) as unknown[];
    runs.push(performance.now() - started);
    if (ids.length !== LARGE_COUNT || page.length !== 200) throw new Error('unexpected listing');
    services.closeProject();
  }
  runs.sort((a, b) => a - b);
  return { images: LARGE_COUNT, firstPage: 200, medianMs: round(runs[2]!), minMs: round(runs[0]!), runs: runs.length };
}

async function benchMap() {
  const random = seededRandom(7);
  const vectors = Array.from({ length: LARGE_COUNT }, () => Float32Array.from({ length: 512 }, () => random() - 0.5));
  let longestGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  const points = await pca2dInWorker(vectors);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  if (points.length !== LARGE_COUNT) throw new Error('unexpected map size');
  return { images: LARGE_COUNT, dims: 512, seconds: round(seconds), longestEventLoopGapMs: round(longestGap) };
}

const round = (x: number) => Math.round(x * 100) / 100;

const only = process.env.BENCH_ONLY;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-bench-'));
try {
  const result: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cores: os.cpus().length };
  if (!only || only === 'project') {
    result.import = await benchImport(work);
    log(`import: ${(result.import as { imagesPerSecond: number }).imagesPerSecond} images/s`);
    result.open20k = benchOpenLarge(work);
    result.map20k = await benchMap();
    log(`map20k: ${(result.map20k as { seconds: number }).seconds} s`);
  }
  if (!only || only === 'preprocess') {
    result.preprocessing = benchPreprocessing();
    log(`preprocessing: ${JSON.stringify(result.preprocessing)}`);
  }
  if (!only || only === 'clip') result.clip = await benchClip();
  if (!only || only === 'clip' || only === 'onnx') result.onnxRuntime = await benchOnnx(ensureRandomModel(), cacheDir, process.env.BENCH_QUICK === '1');
  if (!only || only === 'train') {
    await initBackend((process.env.MOCOOP_BACKEND as 'auto') ?? 'auto');
    result.training = await benchTraining(ensureRandomModel());
  }
  if (!only || only === 'cocoop') {
    await initBackend((process.env.MOCOOP_BACKEND as 'auto') ?? 'auto');
    result.cocoop = await benchCoCoOp(ensureRandomModel());
  }
  if (!only || only === 'augment') result.augmentation = await benchAugmentation(ensureRandomModel());
  if (!only || only === 'reliability') {
    result.reliability = await benchReliability({ log: (line) => log(`reliability: ${line}`) });
    const r = result.reliability as { inputsTried: number; crashed: number; unclearMessage: number; dataLost: number };
    log(`reliability: ${r.inputsTried} inputs, ${r.crashed} crashed, ${r.unclearMessage} unclear, ${r.dataLost} lost`);
  }
  if (!only || only === 'responsiveness') {
    result.responsiveness = await benchResponsiveness(work);
    log(`responsiveness: ${JSON.stringify(result.responsiveness)}`);
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
