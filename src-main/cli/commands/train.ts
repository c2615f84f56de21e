/** `mocoop train | eval`: training (one seed or several), resuming, reruns and evaluation. */
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../clip/backend';
import { TrainStart } from '../../contract';
import type { AppServices } from '../../services/app-services';
import { LOSS_KEYS, type LossOverrides } from '../../mocoop/trainer';
import { SCHEDULE_NAMES, isScheduleName } from '../../contract/schedules';
import { type SeedMetric, seedSpread } from '../../contract/seeds';
import { TRAIN_METHODS, type TrainMethod } from '../../contract/methods';
import { TrainingService } from '../../training/training-service';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { AUGMENT_FLAGS, augmentOptions } from '../augment-flags';
import { services, print, requirePositional, backendFlag, numberFlag, checkUsage, openTraining } from '../common';

/** The setting of a TrainStart request that each train flag sets. */
const TRAIN_FLAGS: Record<string, string> = {
  augViews: 'aug-views',
  topK: 'k-experts',
  epochs: 'epochs',
  batchSize: 'batch-size',
  lr: 'lr',
  seed: 'seed',
  setId: 'set'
};

/** Loss weights and temperatures: the CLI flag and the setting it sets. */
const LOSS_FLAGS: [string, (typeof LOSS_KEYS)[number]][] = [
  ['lambda1', 'lambda1'],
  ['lambda2', 'lambda2'],
  ['lambda-kg', 'lambdaKg'],
  ['tau-ce', 'tauCe'],
  ['tau-gate', 'tauGate'],
  ['tau-text', 'tauText']
];

export async function trainCommand(command: 'train' | 'eval', args: ParsedArgs): Promise<void> {
  checkFlags(args, [
    'model',
    'method',
    'preset',
    'schedule',
    'k-experts',
    'epochs',
    'batch-size',
    'lr',
    'seed',
    'set',
    'run',
    'on',
    'classes-from',
    'seeds',
    'resume',
    'rerun',
    'aug-views',
    ...AUGMENT_FLAGS,
    'backend',
    'json',
    'debug',
    ...LOSS_FLAGS.map(([flag]) => flag)
  ]);
  const json = args.flags.has('json');
  const backendPref = backendFlag(args);
  const method = (stringFlag(args, 'method') ?? 'mocoop') as TrainMethod;
  if (!(TRAIN_METHODS as readonly string[]).includes(method)) throw new UsageError(`--method must be one of ${TRAIN_METHODS.join(', ')}.`);
  const preset = stringFlag(args, 'preset') ?? 'paper';
  if (preset !== 'paper' && preset !== 'released-code') throw new UsageError(`--preset must be paper or released-code (got "${preset}").`);
  const schedule = stringFlag(args, 'schedule');
  if (schedule !== undefined && !isScheduleName(schedule)) throw new UsageError(`--schedule must be one of ${SCHEDULE_NAMES.join(', ')} (got "${schedule}").`);
  // --seeds 1,2,3: the same settings trained once per seed, reported as mean ± std.
  const seedsFlag = stringFlag(args, 'seeds');
  let seedList: number[] | undefined;
  if (seedsFlag !== undefined) {
    if (command !== 'train' || ['seed', 'resume', 'rerun'].some((f) => stringFlag(args, f) !== undefined))
      throw new UsageError('--seeds trains new runs: it cannot be combined with --seed, --resume or --rerun.');
    const parts = seedsFlag.split(',').map((p) => p.trim());
    if (parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--seeds takes whole numbers separated by commas, e.g. 1,2,3 (got "${seedsFlag}").`);
    seedList = parts.map(Number);
    if (new Set(seedList).size !== seedList.length) throw new UsageError(`--seeds lists a seed twice (got "${seedsFlag}").`);
    if (seedList.length > 20) throw new UsageError(`--seeds takes at most 20 seeds (got ${seedList.length}).`);
  }
  const modelArg = stringFlag(args, 'model');
  if (!modelArg && command === 'train' && !stringFlag(args, 'resume') && !stringFlag(args, 'rerun'))
    throw new UsageError('train needs --model DIR (a CLIP folder) or the id of an installed model.');
  const { app, training } = openTraining(args);
  // --rerun RUN: the same method, set and every setting from the run's record, as a new run.
  const rerunId = stringFlag(args, 'rerun');
  const recorded = rerunId ? training.training.run(rerunId) : null;
  const fromRecord = (key: string) => (recorded ? (recorded.settings[key] as number | undefined) : undefined);
  // The limits of the app's train request (epochs, lr, batch size, K, …), named by their flags.
  const given = Object.fromEntries(
    Object.entries(TRAIN_FLAGS)
      .map(([key, flag]) => [key, numberFlag(args, flag, key !== 'lr', 0)])
      .filter(([, value]) => value !== undefined)
  );
  checkUsage(
    TrainStart.pick({ augViews: true, topK: true, epochs: true, batchSize: true, lr: true, seed: true, setId: true }),
    given,
    (where) => `--${TRAIN_FLAGS[where] ?? where}`
  );
  // Loss weights and temperatures: the upper limits here; a zero or negative one is explained by the training service.
  const lossShape = TrainStart.shape.loss.unwrap().shape;
  for (const [flag, key] of LOSS_FLAGS) {
    const value = numberFlag(args, flag, false, 0);
    if (value === undefined) continue;
    const parsed = lossShape[key].safeParse(value);
    if (!parsed.success && parsed.error.issues.some((i) => i.code === 'too_big')) checkUsage(lossShape[key], value, () => `--${flag}`);
  }
  const options = {
    method: (recorded?.method as TrainMethod | undefined) ?? method,
    preset: ((recorded?.settings.preset as string | undefined) ?? preset) as 'paper' | 'released-code',
    // A rerun keeps its record's schedule and warm-up (older records: the warm-up they had).
    schedule: recorded ? (isScheduleName(recorded.settings.schedule) ? recorded.settings.schedule : undefined) : schedule,
    warmupEpochs: fromRecord('warmupEpochs'),
    ...augmentOptions(args, recorded?.settings),
    topK: fromRecord('topK') ?? numberFlag(args, 'k-experts', true, 1),
    epochs: fromRecord('epochs') ?? numberFlag(args, 'epochs', true, 1),
    batchSize: fromRecord('batchSize') ?? numberFlag(args, 'batch-size', true, 1),
    lr: fromRecord('lr') ?? numberFlag(args, 'lr', false, 0),
    seed: fromRecord('seed') ?? numberFlag(args, 'seed', true, 0),
    setId: recorded?.setId ?? numberFlag(args, 'set', true, 1),
    loss: Object.fromEntries(
      LOSS_FLAGS.map(([flag, key]) => [key, fromRecord(key) ?? numberFlag(args, flag, false, 0)]).filter(([, value]) => value !== undefined)
    ) as LossOverrides,
    resume: stringFlag(args, 'resume')
  };
  try {
    const runArg = stringFlag(args, 'run') ?? stringFlag(args, 'resume') ?? rerunId;
    if (command === 'eval' && !runArg) throw new UsageError('eval needs --run ID.');
    const target = modelArg ?? training.training.run(runArg!).modelId;
    const asDir = path.resolve(target);
    const model =
      fs.existsSync(asDir) && fs.statSync(asDir).isDirectory() ? await app.clip.models.register(asDir, { source: 'import' }) : app.clip.models.get(target);
    const backend = await initBackend(backendPref);
    const { ClipEngine } = await import('../../clip/engine');
    const engine = ClipEngine.load(model.dir, { textGradients: command === 'train' || stringFlag(args, 'classes-from') !== undefined });
    try {
      if (command === 'eval') {
        const runId = runArg!;
        const onFile = stringFlag(args, 'on');
        let other: AppServices | null = null;
        // --classes-from FILE: score exactly FILE's class names (open vocabulary; cross-dataset with --on FILE).
        const classesFile = stringFlag(args, 'classes-from');
        let namesFrom: AppServices | null = null;
        let result;
        try {
          let on: TrainingService | undefined;
          if (onFile) {
            other = services();
            other.openProjectFile(onFile);
            on = new TrainingService(other.project);
          }
          let classesFrom: TrainingService | undefined;
          if (classesFile) {
            const same = (a: string, b: string) => path.resolve(a) === path.resolve(b);
            if (same(classesFile, requirePositional(args, 1, 'the project file'))) classesFrom = training;
            else if (on && onFile && same(classesFile, onFile)) classesFrom = on;
            else {
              namesFrom = services();
              namesFrom.openProjectFile(classesFile);
              classesFrom = new TrainingService(namesFrom.project);
            }
          }
          result = await training.evaluate(runId, engine, model, { on, classesFrom, text: classesFrom ? engine : undefined });
        } finally {
          other?.dispose();
          namesFrom?.dispose();
        }
        const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
        const ov = result.open_vocabulary;
        const openLine = ov
          ? `classes from ${ov.classes_from}: ${ov.trained.length} the run was trained with, ${ov.added.length} added through its experts${ov.added.length ? ` (${ov.added.slice(0, 5).join(', ')}${ov.added.length > 5 ? ', …' : ''})` : ''}`
          : '';
        print(
          json,
          result,
          [
            `${result.method} ${runId}: accuracy ${pct(result.accuracy)} on ${result.images} test images`,
            openLine,
            result.h !== null ? `base ${pct(result.base_accuracy)} · new ${pct(result.new_accuracy)} · H ${pct(result.h)}` : '',
            ...result.per_class.map((c) => `  ${c.class} (${c.role}): ${pct(c.accuracy)} (${c.correct}/${c.images})`)
          ]
            .filter(Boolean)
            .join('\n')
        );
        return;
      }
      let stop = false;
      process.once('SIGINT', () => (stop = true));
      const backendText = `${backend.name} · ${backend.device} · text tower on ${(await engine.textGradients()).describe}`;
      // --seeds: one run per seed, each on the set sampled with its seed (see seedSets), then mean ± std.
      const plan = seedList ? training.seedSets(options.setId, seedList) : null;
      if (plan && !json)
        plan.filter((p) => p.created).forEach((p) => process.stderr.write(`Seed ${p.seed}: sampled few-shot set #${p.set.id} "${p.set.name}".\n`));
      const finished: string[] = [];
      for (const item of plan ?? [null]) {
        if (stop) break;
        const runId = await training.train(
          engine,
          model,
          backendText,
          item ? { ...options, seed: item.seed, setId: item.set.id } : options,
          (e) => {
            if (json) process.stdout.write(JSON.stringify(e) + '\n');
            else if (process.stderr.isTTY)
              process.stderr.write(
                `\r${item ? `seed ${item.seed} ` : ''}epoch ${e.epoch} step ${e.step}: loss ${e.loss.toFixed(4)} (ce ${e.l_ce.toFixed(3)}, gate ${e.l_gate.toFixed(3)}, text ${e.l_text.toFixed(3)}) lr ${e.lr.toExponential(2)}   `
              );
          },
          () => stop
        );
        finished.push(runId);
        const run = training.training.run(runId);
        if (json) process.stdout.write(JSON.stringify({ event: 'done', run: runId, status: run.status, metrics: run.metrics }) + '\n');
        else
          process.stdout.write(
            `\nRun ${runId}${item ? ` (seed ${item.seed})` : ''}: ${run.status}${run.metrics ? `, test accuracy ${(100 * (run.metrics as { accuracy: number }).accuracy).toFixed(1)}%` : ''}\n`
          );
      }
      if (plan) {
        const records = finished.map((id) => training.training.run(id));
        const metric = (r: (typeof records)[number], key: SeedMetric) => (r.metrics?.[key] as number | null | undefined) ?? null;
        const spread = seedSpread(
          records.map((r) => ({
            id: r.id,
            seed: (r.settings.seed as number | undefined) ?? null,
            metrics: { accuracy: metric(r, 'accuracy'), base_accuracy: metric(r, 'base_accuracy'), new_accuracy: metric(r, 'new_accuracy'), h: metric(r, 'h') }
          }))
        );
        const summary = {
          event: 'seeds',
          seeds: spread.seeds,
          runs: records.map((r) => {
            const item = plan.find((p) => p.seed === r.settings.seed)!;
            return {
              run: r.id,
              seed: item.seed,
              set: item.set.id,
              set_created: item.created,
              status: r.status,
              accuracy: metric(r, 'accuracy'),
              base_accuracy: metric(r, 'base_accuracy'),
              new_accuracy: metric(r, 'new_accuracy'),
              h: metric(r, 'h')
            };
          }),
          mean: spread.mean,
          std: spread.std,
          std_kind: 'population (numpy np.std, ddof 0, as Dassl parse_test_res)'
        };
        if (json) process.stdout.write(JSON.stringify(summary) + '\n');
        else {
          const pm = (key: SeedMetric, label: string) =>
            spread.mean[key] === null ? '' : `  ${label.padEnd(9)}${(100 * spread.mean[key]!).toFixed(2)} ± ${(100 * spread.std[key]!).toFixed(2)}%`;
          process.stdout.write(
            [
              `${records.length} seed(s) (${spread.seeds.join(', ')}), mean ± std:`,
              pm('accuracy', 'accuracy'),
              pm('base_accuracy', 'base'),
              pm('new_accuracy', 'new'),
              pm('h', 'H')
            ]
              .filter(Boolean)
              .join('\n') + '\n'
          );
        }
      }
    } finally {
      engine.dispose();
    }
  } finally {
    app.dispose();
  }
}
