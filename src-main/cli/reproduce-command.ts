/**
 * `mocoop reproduce --data ROOT --model DIR|ID --out DIR`: the paper's base-to-new table from CoOp-layout
 * data set folders (each with its split_zhou_<Name>.json and images): for every data set × method ×
 * seed, a project (created and imported once), the authors' template groups for the data set, the
 * 16-shot base-to-new set of the seed, a run with the published settings (the data set's released
 * schedule for MoCoOp, CoOp's and KgCoOp's own for them), evaluated on the test split. Writes
 * reproduce.csv / reproduce.json / reproduce.md (base, new and H per data set and their average, mean
 * ± std over seeds, beside the paper's numbers when --paper FILE gives them). Resumable: a cell whose
 * run finished is read back, not trained again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../clip/backend';
import { type AugmentMode, isAugmentMode } from '../contract/augmentation';
import { type ScheduleName, defaultSchedule } from '../contract/schedules';
import { AppServices } from '../services/app-services';
import { loadTemplateLibrary } from '../templates/library';
import { defaultConfigDir, packageVersion } from '../services/paths';
import { TRAIN_METHODS, type TrainMethod } from '../contract/methods';
import { TrainingService } from '../training/training-service';
import { z } from 'zod';
import { readJsonFile } from '../clip/regular-file';
import { checkWithContract } from '../contract/limits';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from './args';

export const REPRODUCE_USAGE = `reproduce --data ROOT --model DIR|ID --out DIR [--datasets A,B] [--methods mocoop,coop,kgcoop]
        [--seeds 1,2,3] [--shots 16] [--augment fresh|pool|off] [--epochs N] [--paper FILE] [--json]
                                                   base-to-new for CoOp-layout data sets under ROOT (split_zhou_*.json + images),
                                                   every data set × method × seed with the published settings; resumable`;

export interface DatasetFolder {
  name: string;
  dir: string;
  split: string;
}

/** Data set folders under ROOT (ROOT itself or its sub-folders) holding a split_zhou_<Name>.json. */
export function findDatasets(root: string): DatasetFolder[] {
  const dirs = [
    root,
    ...fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(root, d.name))
  ];
  const out: DatasetFolder[] = [];
  for (const dir of dirs) {
    for (const file of fs.readdirSync(dir)) {
      const m = /^split_zhou_(.+)\.json$/.exec(file);
      if (m) out.push({ name: m[1]!, dir, split: path.join(dir, file) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The folder the split's paths are relative to: the data set folder or one of its sub-folders (CoOp's image_dir). */
export function imageRoot(dataset: DatasetFolder): string {
  const split = JSON.parse(fs.readFileSync(dataset.split, 'utf8')) as { train?: [string, number, string][] };
  const first = split.train?.[0]?.[0];
  if (!first) throw new Error(`${dataset.split} has no train entries.`);
  const candidates = [
    dataset.dir,
    ...fs
      .readdirSync(dataset.dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(dataset.dir, d.name))
  ];
  const found = candidates.find((c) => fs.existsSync(path.join(c, first)));
  if (!found) throw new Error(`${dataset.name}: none of ${dataset.dir} and its sub-folders holds ${first} (the split's first image).`);
  return found;
}

/** The schedule a method trains a data set with: the authors' released one for MoCoOp, CoOp's and KgCoOp's own. */
export function reproduceSchedule(method: string, dataset: string): ScheduleName {
  return defaultSchedule(method, dataset);
}

interface Cell {
  dataset: string;
  method: string;
  seed: number;
  run: string;
  base: number | null;
  new: number | null;
  h: number | null;
}

const list = (value: string | undefined, fallback: string[]) =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

const PaperNumbers = z.record(
  z.string(),
  z.record(z.string(), z.object({ base: z.number().optional(), new: z.number().optional(), h: z.number().optional() }))
);

/** --paper FILE: {"DataSet": {"method": {"base", "new", "h"}}}, checked, with messages naming the field. */
function readPaperNumbers(file: string): z.infer<typeof PaperNumbers> {
  const json = readJsonFile(file);
  return checkWithContract(PaperNumbers, json, (where) => `${file}${where ? ` (field "${where}")` : ''}`, 'bad_source');
}

export async function reproduceCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['data', 'model', 'out', 'datasets', 'methods', 'seeds', 'shots', 'epochs', 'augment', 'paper', 'backend', 'json', 'debug']);
  const root = stringFlag(args, 'data');
  const modelArg = stringFlag(args, 'model');
  const out = stringFlag(args, 'out');
  if (!root || !modelArg || !out) throw new UsageError('reproduce needs --data ROOT (CoOp-layout data set folders), --model DIR|ID and --out DIR.');
  if (!fs.existsSync(root)) throw new UsageError(`--data ${root} does not exist.`);
  const methods = list(stringFlag(args, 'methods'), ['mocoop', 'coop', 'kgcoop']);
  const unknown = methods.filter((m) => !(TRAIN_METHODS as readonly string[]).includes(m));
  if (unknown.length) throw new UsageError(`--methods: ${unknown.join(', ')} is not one of ${TRAIN_METHODS.join(', ')}.`);
  const seeds = list(stringFlag(args, 'seeds'), ['1', '2', '3']).map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new UsageError('--seeds takes whole numbers separated by commas, e.g. 1,2,3.');
  const shots = Number(stringFlag(args, 'shots') ?? 16);
  if (!Number.isInteger(shots) || shots < 1) throw new UsageError('--shots must be a whole number of at least 1.');
  // --epochs N: a quick look at the pipeline (not the published settings; recorded with each run).
  const epochs = stringFlag(args, 'epochs') === undefined ? undefined : Number(stringFlag(args, 'epochs'));
  if (epochs !== undefined && (!Number.isInteger(epochs) || epochs < 1)) throw new UsageError('--epochs must be a whole number of at least 1.');
  const augment = stringFlag(args, 'augment');
  if (augment !== undefined && !isAugmentMode(augment)) throw new UsageError('--augment must be fresh, pool or off.');
  const paperFile = stringFlag(args, 'paper');
  const paper = paperFile ? readPaperNumbers(paperFile) : {};
  const wanted = stringFlag(args, 'datasets') ? new Set(list(stringFlag(args, 'datasets'), []).map((d) => d.toLowerCase())) : null;
  const datasets = findDatasets(root).filter((d) => !wanted || wanted.has(d.name.toLowerCase()));
  if (datasets.length === 0) throw new UsageError(`No split_zhou_*.json under ${root}${wanted ? ' for --datasets' : ''}.`);
  const json = args.flags.has('json');
  const say = (line: string) => process.stderr.write(`${line}\n`);

  fs.mkdirSync(path.join(out, 'projects'), { recursive: true });
  await initBackend((stringFlag(args, 'backend') as 'auto' | undefined) ?? 'auto');
  const app = new AppServices({ mode: 'web', configDir: defaultConfigDir(), version: packageVersion() });
  const cells: Cell[] = [];
  try {
    const asDir = path.resolve(modelArg);
    const model =
      fs.existsSync(asDir) && fs.statSync(asDir).isDirectory() ? await app.clip.models.register(asDir, { source: 'import' }) : app.clip.models.get(modelArg);
    const { ClipEngine } = await import('../clip/engine');
    const engine = ClipEngine.load(model.dir, { textGradients: true });
    try {
      const library = loadTemplateLibrary();
      for (const dataset of datasets) {
        const file = path.join(out, 'projects', `${dataset.name}.mocoop`);
        if (fs.existsSync(file)) app.openProjectFile(file);
        else {
          app.createProject(file, dataset.name);
          say(`${dataset.name}: importing ${dataset.split}`);
          await app.importSource(`reproduce-${dataset.name}`, { kind: 'coopSplit', file: dataset.split, imageRoot: imageRoot(dataset) });
          const grouping = library.groupings.find((g) => g.id === `mocoop-${dataset.name}`);
          if (grouping)
            new TrainingService(app.project).training.replaceTemplateGroups(grouping.groups.map((templates, i) => ({ name: `group ${i + 1}`, templates })));
        }
        const t = new TrainingService(app.project);
        for (const seed of seeds) {
          const set =
            t.training.fewShotSets().find((s) => s.k === shots && s.seed === seed && s.newClassIds.length > 0) ?? t.createFewShotSet(shots, seed, true);
          for (const method of methods) {
            const done = t.training
              .runs()
              .find((r) => r.status === 'done' && r.method === method && r.setId === set.id && r.settings.seed === seed && r.settings.reproduce === true);
            let runId = done?.id;
            if (!runId) {
              say(`${dataset.name} · ${method} · seed ${seed}: training`);
              const schedule = method === 'zeroshot' || method === 'linear-probe' ? undefined : reproduceSchedule(method, dataset.name);
              runId = await t.train(
                engine,
                model,
                `reproduce · ${engine.model.config.vision.imageSize}px`,
                {
                  method: method as TrainMethod,
                  schedule,
                  setId: set.id,
                  seed,
                  dataset: dataset.name,
                  ...(epochs ? { epochs } : {}),
                  ...(augment ? { augment: augment as AugmentMode } : {})
                },
                () => {}
              );
              t.training.addRunSettings(runId, { reproduce: true });
            }
            const m = t.training.run(runId).metrics as { base_accuracy?: number | null; new_accuracy?: number | null; h?: number | null } | null;
            cells.push({ dataset: dataset.name, method, seed, run: runId, base: m?.base_accuracy ?? null, new: m?.new_accuracy ?? null, h: m?.h ?? null });
          }
        }
      }
    } finally {
      engine.dispose();
    }
  } finally {
    app.dispose();
  }
  const table = summarize(
    cells,
    methods,
    datasets.map((d) => d.name),
    paper
  );
  fs.writeFileSync(path.join(out, 'reproduce.json'), JSON.stringify({ cells, table }, null, 2));
  fs.writeFileSync(
    path.join(out, 'reproduce.csv'),
    [
      'dataset,method,seeds,base,base_std,new,new_std,h,h_std,paper_base,paper_new,paper_h',
      ...table.map((r) =>
        [r.dataset, r.method, r.seeds, r.base, r.baseStd, r.new, r.newStd, r.h, r.hStd, r.paper?.base, r.paper?.new, r.paper?.h]
          .map((v) => (v === undefined || v === null ? '' : typeof v === 'number' ? v.toFixed(4) : String(v)))
          .join(',')
      )
    ].join('\n') + '\n'
  );
  const pct = (x: number | null, s?: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}${s ? ` ± ${(100 * s).toFixed(2)}` : ''}`);
  const md = [
    '| data set | method | base | new | H | paper base / new / H |',
    '|---|---|---|---|---|---|',
    ...table.map(
      (r) =>
        `| ${r.dataset} | ${r.method} | ${pct(r.base, r.baseStd)} | ${pct(r.new, r.newStd)} | ${pct(r.h, r.hStd)} | ${r.paper ? `${r.paper.base ?? '—'} / ${r.paper.new ?? '—'} / ${r.paper.h ?? '—'}` : '—'} |`
    )
  ].join('\n');
  fs.writeFileSync(path.join(out, 'reproduce.md'), md + '\n');
  process.stdout.write(
    json
      ? JSON.stringify({ event: 'reproduce', table, files: ['reproduce.csv', 'reproduce.json', 'reproduce.md'].map((f) => path.join(out, f)) }) + '\n'
      : md + '\n'
  );
}

/** Mean ± std over seeds per (data set, method), then each method's average over data sets (H of the averages, as the paper). */
export function summarize(
  cells: Cell[],
  methods: string[],
  datasets: string[],
  paper: Record<string, Record<string, { base?: number; new?: number; h?: number }>> = {}
) {
  const rows: {
    dataset: string;
    method: string;
    seeds: number;
    base: number | null;
    baseStd: number | null;
    new: number | null;
    newStd: number | null;
    h: number | null;
    hStd: number | null;
    paper?: { base?: number; new?: number; h?: number };
  }[] = [];
  const stat = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? { m: mean(v), s: std(v) } : { m: null, s: null };
  };
  for (const method of methods) {
    for (const dataset of datasets) {
      const of = cells.filter((c) => c.dataset === dataset && c.method === method);
      if (!of.length) continue;
      const [b, n, h] = [stat(of.map((c) => c.base)), stat(of.map((c) => c.new)), stat(of.map((c) => c.h))];
      rows.push({ dataset, method, seeds: of.length, base: b.m, baseStd: b.s, new: n.m, newStd: n.s, h: h.m, hStd: h.s, paper: paper[dataset]?.[method] });
    }
    const mine = rows.filter((r) => r.method === method && r.dataset !== 'Average');
    if (mine.length > 1) {
      const base = stat(mine.map((r) => r.base)).m;
      const nw = stat(mine.map((r) => r.new)).m;
      rows.push({
        dataset: 'Average',
        method,
        seeds: mine[0]!.seeds,
        base,
        baseStd: null,
        new: nw,
        newStd: null,
        h: base !== null && nw !== null && base + nw > 0 ? (2 * base * nw) / (base + nw) : null,
        hStd: null,
        paper: paper.Average?.[method]
      });
    }
  }
  return rows;
}
