import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ExpertTable, classProbabilities, predict } from '../../src-main/mocoop/inference';
import { encodeTable } from '../../src-main/mocoop/table-codec';
import { type NewImage, folderTail } from '../../src-main/store/project-store';
import { TrainingStore } from '../../src-main/store/training-store';
import { useApp } from '../helpers/app';

function fakeImage(n: number, file: string, label: string | null, split: NewImage['split'] = 'train'): NewImage {
  return {
    path: file,
    hash: `hash-${n}`,
    width: 32,
    height: 32,
    bytes: 100 + n,
    label,
    split,
    source: 'test',
    thumbnail: { mime: 'image/jpeg', data: Buffer.from([n]) }
  };
}

const ctx = useApp({ each: true, prefix: 'mocoop-labels-', log: () => {} });
const { call } = ctx;

beforeEach(async () => {
  await call('project.create', { path: path.join(ctx.dir, 'pets.mocoop') });
  const images: NewImage[] = [];
  let n = 1;
  for (const [label, count] of [
    ['cat', 10],
    ['dog', 10],
    ['golden retriever', 5]
  ] as const) {
    for (let i = 0; i < count; i++) images.push(fakeImage(n++, `/data/pets/train/${label}/${String(i).padStart(4, '0')}.jpg`, label));
  }
  for (let i = 0; i < 4; i++) images.push(fakeImage(n++, `/data/inbox/scan_${i}.png`, null));
  ctx.app.project.insertImages(images, []);
});

describe('search', () => {
  it('matches file names, the two innermost folders and class names; every word must match', async () => {
    expect(folderTail('/data/pets/train/cat/0001.jpg')).toBe('train/cat');
    expect(folderTail('C:\\data\\cat\\1.jpg')).toBe('data/cat');
    const count = async (search: string) => (await call('images.ids', { filter: { search } })).ids.length;
    expect(await count('scan_')).toBe(4); // file name
    expect(await count('inbox')).toBe(4); // folder
    expect(await count('golden')).toBe(5); // class (and folder)
    expect(await count('train')).toBe(25); // folder of every labeled image
    expect(await count('pets')).toBe(0); // three folders up: not part of the search
    expect(await count('train dog')).toBe(10);
    expect(await count('0001 cat')).toBe(1);
    expect(await count('100%')).toBe(0); // LIKE wildcards are literal
    // A class renamed: its images are found under the new name.
    const dog = ctx.app.project.listClasses().find((c) => c.name === 'dog')!;
    await call('classes.rename', { id: dog.id, name: 'hound' });
    expect(await count('hound')).toBe(10);
  });
});

describe('predictions of a run for the image viewer and the prediction filters', () => {
  it('uses the stored prediction of an evaluated image, computes others from cached features, and filters by prediction', async () => {
    const classes = ctx.app.project.listClasses();
    const [cat, dog] = [classes[0]!, classes[1]!];
    const P = 4;
    // Two experts, two classes (cat, dog): class features along axes 0 and 1.
    const table: ExpertTable = {
      experts: 2,
      classes: 2,
      dim: P,
      features: new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]),
      W: new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]),
      b: new Float32Array([0, 0]),
      topK: 1,
      logitScale: 10
    };
    const training = new TrainingStore(ctx.app.project);
    training.startRun({
      id: 'run-1',
      method: 'mocoop',
      settings: { classes: ['cat', 'dog'], classIds: [cat.id, dog.id] },
      backend: 'test',
      modelId: 'model-x',
      setId: null
    });
    training.saveExpertTable('run-1', encodeTable(table));
    training.finishRun('run-1', 'done', { accuracy: 0.5 });
    const catIds = (await call('images.ids', { filter: { classId: cat.id } })).ids as number[];
    const dogIds = (await call('images.ids', { filter: { classId: dog.id } })).ids as number[];
    const unlabeled = (await call('images.ids', { filter: { unlabeled: true } })).ids as number[];
    // Evaluated: two cat images, one predicted right (confidence 0.9), one wrong (0.6).
    training.savePredictions('run-1', [
      {
        imageId: catIds[0]!,
        labelId: cat.id,
        predictedClassId: cat.id,
        correct: true,
        topExperts: [0],
        topWeights: [1],
        router: [0.7, 0.3],
        pHard: null,
        confidence: 0.9
      },
      {
        imageId: catIds[1]!,
        labelId: cat.id,
        predictedClassId: dog.id,
        correct: false,
        topExperts: [1],
        topWeights: [1],
        router: [0.2, 0.8],
        pHard: null,
        confidence: 0.6
      }
    ]);
    // Cached features: a dog image leans to dog, an unlabeled one to cat.
    const [dogRow, newRow] = ctx.app.project.images([dogIds[0]!, unlabeled[0]!]);
    const dogVector = new Float32Array([0.2, 0.9, 0.1, 0]);
    ctx.app.project.storeFeatures('model-x', [
      { hash: dogRow!.hash, vector: dogVector },
      { hash: newRow!.hash, vector: new Float32Array([0.8, 0.1, 0, 0.1]) }
    ]);

    const result = await call('images.predictions', { imageIds: [dogIds[0], catIds[1], unlabeled[0], dogIds[1]] });
    expect(result.runId).toBe('run-1'); // the best finished run when none is named
    expect(result.items.map((i: any) => [i.imageId, i.predicted, i.correct, i.source])).toEqual([
      [dogIds[0], 'dog', true, 'computed'],
      [catIds[1], 'dog', false, 'evaluated'],
      [unlabeled[0], 'cat', null, 'computed']
    ]); // dogIds[1] has neither a stored prediction nor cached features
    const expected = classProbabilities(predict(table, dogVector, [0, 1]).scores, 10);
    expect(result.items[0].confidence).toBeCloseTo(expected[1]!, 6);
    expect(result.items[0].topExperts).toEqual([1]);
    expect(result.items[0].top.map((t: any) => t.className)).toEqual(['dog', 'cat']);
    expect(result.items[1]).toMatchObject({ confidence: 0.6, topExperts: [1], predictedClassId: dog.id });

    const ids = async (prediction: object) => (await call('images.ids', { filter: { prediction: { runId: 'run-1', ...prediction } } })).ids;
    expect(await ids({})).toEqual([catIds[0], catIds[1]]);
    expect(await ids({ correct: false })).toEqual([catIds[1]]);
    expect(await ids({ predictedClassId: cat.id })).toEqual([catIds[0]]);
    expect(await ids({ minConfidence: 0.7 })).toEqual([catIds[0]]);
    expect(await ids({ maxConfidence: 0.7 })).toEqual([catIds[1]]);
    expect(await ids({ minConfidence: 0.95 })).toEqual([]);
    expect((await call('images.ids', { filter: { search: 'cat', prediction: { runId: 'run-1', correct: true } } })).ids).toEqual([catIds[0]]);
  });

  it('says so when there is no run', async () => {
    expect(await call('images.predictions', { imageIds: [1] })).toEqual({ runId: null, items: [] });
  });
});
