import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src-main/store/project-store';
import { TrainingStore } from '../../src-main/store/training-store';
import { toRunStep } from '../../src-main/services/train-services';
import { tempDir } from '../helpers/temp';

const step = (n: number, perEpoch = 5) => ({
  step: n,
  data: {
    event: 'step',
    step: n,
    epoch: Math.floor((n - 1) / perEpoch),
    loss: 1 / n,
    l_ce: 1 / n,
    l_gate: 0.1,
    l_text: 0.2,
    lr: 0.01,
    accuracy: 0.5,
    images_per_s: 10,
    eta_s: 5
  }
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('runs keep their names, notes and every step of their history', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: ProjectStore;
  let training: TrainingStore;
  let file: string;
  beforeEach(() => {
    tmp = tempDir();
    file = path.join(tmp.dir, 'p.mocoop');
    store = ProjectStore.create(file);
    training = new TrainingStore(store);
    training.startRun({ id: 'r1', method: 'mocoop', settings: {}, backend: 'cpu', modelId: 'm', setId: null });
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  it('names and annotates a run, trimmed; blank removes; kept in the file', () => {
    expect(training.run('r1')).toMatchObject({ name: null, note: null });
    expect(training.renameRun('r1', '  baseline K=2  ').name).toBe('baseline K=2');
    expect(training.annotateRun('r1', 'lr too high?\nloss jumps at epoch 3').note).toBe('lr too high?\nloss jumps at epoch 3');
    store.close();
    store = ProjectStore.open(file);
    training = new TrainingStore(store);
    expect(training.runs()[0]).toMatchObject({ id: 'r1', name: 'baseline K=2', note: 'lr too high?\nloss jumps at epoch 3' });
    expect(training.renameRun('r1', '   ').name).toBeNull();
    expect(training.annotateRun('r1', '').note).toBeNull();
  });

  it('refuses a name that is too long and an unknown run, naming them', () => {
    expect(() => training.renameRun('r1', 'x'.repeat(201))).toThrow(/at most 200 characters; this one has 201/);
    expect(() => training.annotateRun('r1', 'x'.repeat(5001))).toThrow(/at most 5000 characters/);
    expect(() => training.renameRun('nope', 'a')).toThrow(/No run "nope"/);
    expect(training.run('r1').name).toBeNull();
  });

  it('a cancelled and resumed run has one continuous history from step 1', () => {
    // Epoch 0 (steps 1–5) ends with a checkpoint; the cancel comes during epoch 1 after step 8.
    training.recordSteps(
      'r1',
      range(1, 5).map((n) => step(n))
    );
    training.saveCheckpoint('r1', 0, Buffer.from([1]));
    training.recordSteps(
      'r1',
      range(6, 8).map((n) => step(n))
    );
    training.finishRun('r1', 'cancelled', null, 'cancelled by the user');
    // The cancelled run shows every step it made.
    expect(training.stepHistory('r1').steps.map((s) => s.step)).toEqual(range(1, 8));
    expect(training.lastRecordedStep('r1')).toBe(8);
    // Resuming replays epoch 1 from the checkpoint: the steps past it are recorded again, not twice.
    training.resumeRun('r1');
    expect(training.stepHistory('r1').steps.map((s) => s.step)).toEqual(range(1, 5));
    training.recordSteps(
      'r1',
      range(6, 15).map((n) => step(n))
    );
    training.finishRun('r1', 'done', { accuracy: 0.9 });
    const history = training.stepHistory('r1');
    expect(history.steps.map((s) => s.step)).toEqual(range(1, 15));
    expect(history).toMatchObject({ total: 15, stride: 1 });
  });

  it('thins a long history to at most the points asked for, always keeping the last step', () => {
    training.recordSteps(
      'r1',
      range(1, 53).map((n) => step(n))
    );
    const thin = training.stepHistory('r1', 10);
    expect(thin.total).toBe(53);
    expect(thin.stride).toBe(6);
    expect(thin.steps.map((s) => s.step)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 53]);
    expect(() => training.stepHistory('nope')).toThrow(/No run "nope"/);
  });

  it('reads a stored step as numbers only, and leaves out a row without step, epoch or loss', () => {
    expect(
      toRunStep({
        event: 'step',
        step: 3,
        epoch: 0,
        loss: 0.5,
        l_ce: 0.4,
        l_gate: 0.1,
        l_text: 0.3,
        lr: 0.01,
        accuracy: 0.5,
        images_per_s: 12,
        eta_s: 4,
        extra: 'x'
      })
    ).toEqual({ step: 3, epoch: 0, loss: 0.5, l_ce: 0.4, l_gate: 0.1, l_text: 0.3, lr: 0.01, accuracy: 0.5, images_per_s: 12, eta_s: 4 });
    expect(toRunStep({ step: 3, epoch: 0, loss: 0.5, l_kg: 0.2 })).toMatchObject({ l_kg: 0.2, l_gate: 0 });
    expect(toRunStep({ step: 3, epoch: 0, loss: null })).toBeNull();
    expect(toRunStep({ step: '3', epoch: 0, loss: 1 })).toBeNull();
  });
});
