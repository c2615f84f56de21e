/**
 * The headless CLI over the same services: `npm run mocoop -- <command>` or the `mocoop` bin.
 * With --json a command prints one JSON document on stdout and nothing else; errors go to stderr
 * with a non-zero exit (a stack trace only with --debug).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BACKEND_PREFERENCES, type BackendPreference, initBackend } from '../clip/backend';
import { ImportHoldOut, type ImportSource, type ImportSummary, TrainStart, requests } from '../contract';
import { AppError, USER_FACING_ERRORS, describeSystemError } from '../contract/errors';
import { checkWithContract } from '../contract/limits';
import { AppServices } from '../services/app-services';
import { loadTemplateLibrary } from '../services/clip-services';
import { writeReport } from '../mocoop/report';
import { LOSS_KEYS, type LossOverrides } from '../mocoop/trainer';
import { SCHEDULE_NAMES, isScheduleName } from '../contract/schedules';
import { type SeedMetric, seedSpread } from '../contract/seeds';
import { TRAIN_METHODS, type TrainMethod, TrainingService } from '../services/training-service';
import { checkOutputFolder } from '../services/output-folder';
import { defaultConfigDir, packageRoot, packageVersion } from '../services/paths';
import { startWebServer } from '../transport/web-server';
import { type ParsedArgs, UsageError, checkFlags, parseArgs, stringFlag } from './args';
import type { z } from 'zod';

const USAGE = `Usage: mocoop <command> [options]

  project create <file> [--name NAME] [--json]     create a project file (.mocoop)
  import <file> --folder DIR [--json]              import an image folder (one sub-folder per class)
  import <file> --csv FILE [--json]                import a CSV of path,label
  import <file> --coop-split FILE --image-root DIR [--json]
                                                   import a CoOp/Dassl split JSON (keeps train/val/test)
  import <file> --files PATH [--files PATH ...]    import loose files or folders without labels
  import <file> --label-studio FILE [--image-root DIR]
                                                   import a Label Studio JSON export (choices of image tasks;
                                                   local-files/upload URLs read from DIR, default the JSON's folder)
  import <file> ... [--test-percent P] [--val-percent P] [--split-seed S]
                                                   split on import: a stratified random hold-out per class
                                                   (images the source puts in val/test stay there)
  info <file> --json                               classes with image counts, totals, problems
  export-labels <file> --format csv|coop|labelstudio|imagefolder --out PATH [--include-unlabeled]
        [--link copy|symlink|hardlink] [--by-split] [--overwrite] [--json]
                                                   save the labels: CSV (path,label,split), CoOp split JSON, Label Studio
                                                   JSON, or an ImageFolder (one folder per class, copies or links;
                                                   --by-split: train/val/test folders); never replaces an existing
                                                   file or folder without --overwrite
  serve [--port N] [--project FILE] [--json]       web mode on 127.0.0.1 (prints the access link)

  tokenize --model DIR [--json] TEXT...            CLIP token ids (77 per text)
  embed-text --model DIR [--json] TEXT...          L2-normalised projected text embeddings
  embed-image --model DIR [--json] FILE...         L2-normalised projected image embeddings
  models list [--json]                             installed CLIP models
  models download [REPO] [--json]                  download from the HuggingFace hub (default openai/clip-vit-base-patch16)
  models import DIR [--name NAME] [--json]         register a CLIP folder from disk
  zeroshot <file> --model DIR|ID [--templates SET | --template T ...] [--split S] [--json]
                                                   zero-shot accuracy over the labeled images
  templates <file> --import FILE | --export FILE   template groups as {"groups": [{"name", "templates": [...]}]}
  fewshot <file> --k N --seed S [--base-new] [--json]
                                                   sample a seeded few-shot set from the labeled train pool
  train <file> --model DIR|ID [--method mocoop|mocoop-no-gate|mocoop-no-text|coop|kgcoop|zeroshot]
        [--preset paper|released-code] [--schedule lasp-25|lasp-50|lasp-300|batch1-10|coop]
        [--k-experts K] [--epochs N] [--batch-size B] [--lr X] [--seed S] [--set ID] [--aug-views N]
        [--lambda1 X] [--lambda2 X] [--lambda-kg X] [--tau-ce T] [--tau-gate T] [--tau-text T] [--json]
                                                   --schedule: published epochs/warm-up/lr/batch (default lasp-25, coop for CoOp/KgCoOp);
                                                   --epochs, --lr, --batch-size override it
  train <file> ... --seeds 1,2,3 [--json]          one run per seed (each on the set sampled with that seed, as Dassl),
                                                   then mean ± std per metric (JSON: a final {"event":"seeds",...})
  train <file> --resume RUN [--json]               continue a stopped or killed run from its last checkpoint
  train <file> --rerun RUN [--json]                train again with every setting of RUN (same seed: same numbers)
  runs <file> [--json]                             every run with its method, status, accuracy and H
                                                   JSON lines: one {"event":"step",...} per step, then {"event":"done","run":ID}
  eval <file> --run ID [--model DIR|ID] [--json]   accuracy, base/new/H, per class on the test split
  report <file> --run ID --out DIR [--json]        report.html, metrics.json and predictions.csv
  export <file> --run ID --out DIR [--json]        trained experts as safetensors + manifest.json
  import-experts <file> --from DIR [--json]        add exported experts to a project as a run
  eval <file> --run ID --on OTHER.mocoop [--json]  domain shift: evaluate on another project's images
  eval <file> --run ID [--on OTHER.mocoop] --classes-from NAMES.mocoop [--json]
                                                   score exactly NAMES' class names: classes the run lacks are encoded
                                                   through its learned experts (a derived table; the run is unchanged)
  backends [--backend B] [--json]                  which engine runs the encoders and training here (ONNX Runtime provider, WebGPU adapter, tfjs)
  Compute options: --backend auto|tensorflow-gpu|tensorflow|wasm|cpu (tfjs, losses); MOCOOP_ONNX_PROVIDER=auto|cpu|cuda|webgpu|dml|coreml (encoders)

Common options: --json (machine-readable output), --debug (stack traces)`;

const BOOLEANS = new Set(['json', 'debug', 'help', 'base-new', 'include-unlabeled', 'by-split', 'overwrite']);

function services(): AppServices {
  // The backend preference reaches the compute worker through the environment.
  return new AppServices({ mode: 'web', configDir: defaultConfigDir(), version: packageVersion() });
}

function print(json: boolean, value: unknown, human: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : human + '\n');
}

function requirePositional(args: ParsedArgs, index: number, what: string): string {
  const value = args.positional[index];
  if (!value) throw new UsageError(`Missing ${what}.`);
  return value;
}

async function projectCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['name', 'json', 'debug']);
  const sub = args.positional[1];
  if (sub !== 'create') throw new UsageError(`Unknown project command "${sub ?? ''}". Use: project create <file> [--name NAME].`);
  const app = services();
  // The CLI creates a missing folder as it always did: typing the path is the confirmation.
  const summary = app.createProject(requirePositional(args, 2, 'the project file'), stringFlag(args, 'name'), { createFolder: true });
  app.dispose();
  print(args.flags.has('json'), summary, `Created project "${summary.name}" at ${summary.path}`);
}

function importSourceFrom(args: ParsedArgs, argv: string[]): ImportSource {
  const folder = stringFlag(args, 'folder');
  const csv = stringFlag(args, 'csv');
  const split = stringFlag(args, 'coop-split');
  const labelStudio = stringFlag(args, 'label-studio');
  const files = argv.flatMap((arg, i) => (arg === '--files' && argv[i + 1] ? [argv[i + 1]!] : arg.startsWith('--files=') ? [arg.slice(8)] : []));
  if (args.flags.get('files') === true) throw new UsageError('--files needs a value (a file or folder).');
  const given = [folder, csv, split, labelStudio, files.length ? files : undefined].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('Give exactly one source: --folder DIR, --csv FILE, --coop-split FILE --image-root DIR, --label-studio FILE, or --files PATH.');
  if (folder) return { kind: 'folder', dir: folder };
  if (csv) return { kind: 'csv', file: csv };
  if (labelStudio) {
    const imageRoot = stringFlag(args, 'image-root');
    return { kind: 'labelStudio', file: labelStudio, ...(imageRoot ? { imageRoot } : {}) };
  }
  if (split) {
    const imageRoot = stringFlag(args, 'image-root');
    if (!imageRoot) throw new UsageError('--coop-split needs --image-root DIR (the folder its paths are relative to).');
    return { kind: 'coopSplit', file: split, imageRoot };
  }
  return { kind: 'paths', paths: files };
}

/** --test-percent / --val-percent / --split-seed: a hold-out on import (none unless a share is given). */
function holdOutFrom(args: ParsedArgs): ImportHoldOut | undefined {
  const number = (name: string): number | undefined => {
    const raw = stringFlag(args, name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number (got "${raw}").`);
    return value;
  };
  const test = number('test-percent');
  const val = number('val-percent');
  const seed = number('split-seed');
  if (test === undefined && val === undefined) {
    if (seed !== undefined) throw new UsageError('--split-seed needs --test-percent P and/or --val-percent P (the shares to hold out).');
    return undefined;
  }
  const holdOut = ImportHoldOut.safeParse({ testPercent: test ?? 0, valPercent: val ?? 0, seed: seed ?? 1 });
  if (!holdOut.success) {
    const issue = holdOut.error.issues[0]!;
    const flag = { testPercent: '--test-percent', valPercent: '--val-percent', seed: '--split-seed' }[String(issue.path[0]) as 'seed'] ?? 'split on import';
    throw new UsageError(`${flag}: ${issue.message}.`);
  }
  if (holdOut.data.testPercent + holdOut.data.valPercent >= 100) throw new UsageError('--test-percent and --val-percent together must be less than 100, so every class keeps images in the train pool.');
  return holdOut.data;
}

/** The import summary's counts per split and per class, as lines. */
function splitLines(summary: ImportSummary): string[] {
  if (!summary.splitCounts || summary.imported === 0) return [];
  const c = summary.splitCounts;
  const h = summary.holdOut;
  return [
    `Splits: train ${c.train}, val ${c.val}, test ${c.test}${h ? ` (hold-out ${h.testPercent}% test, ${h.valPercent}% validation, seed ${h.seed})` : ''}`,
    ...(summary.perClass ?? []).map((row) => `  ${row.name ?? '(unlabeled)'}: train ${row.train}, val ${row.val}, test ${row.test}`)
  ];
}

async function importCommand(args: ParsedArgs, argv: string[]): Promise<void> {
  checkFlags(args, ['folder', 'csv', 'coop-split', 'label-studio', 'image-root', 'files', 'test-percent', 'val-percent', 'split-seed', 'json', 'debug']);
  const json = args.flags.has('json');
  const source = importSourceFrom(args, argv);
  const holdOut = holdOutFrom(args);
  const app = services();
  app.openProjectFile(requirePositional(args, 1, 'the project file'));
  const interactive = !json && process.stderr.isTTY;
  app.events.subscribe((name, payload) => {
    if (name !== 'import.progress' || !interactive) return;
    const p = payload as { phase: string; done: number; total: number; skipped: number };
    process.stderr.write(`\r${p.phase} ${p.done}/${p.total} (${p.skipped} skipped)   `);
  });
  const controller = new AbortController();
  const importId = `cli-${Date.now()}`;
  process.once('SIGINT', () => {
    controller.abort();
    app.cancelImport(importId);
  });
  const summary = await app.importSource(importId, source, holdOut);
  app.dispose();
  if (interactive) process.stderr.write('\n');
  const lines = [
    `${summary.cancelled ? 'Cancelled: nothing imported' : `Imported ${summary.imported} image(s)`} in ${summary.seconds.toFixed(1)} s`,
    summary.classesCreated.length ? `New classes: ${summary.classesCreated.join(', ')}` : '',
    ...splitLines(summary),
    summary.duplicates.length ? `Duplicates not imported again: ${summary.duplicates.length}` : '',
    ...summary.duplicates
      .slice(0, 20)
      .map((d) => `  ${d.path} (same content as ${d.duplicateOf}${d.labelDiffers ? `; labeled "${d.labelDiffers.inSource}" here, the project keeps ${d.labelDiffers.inProject ? `"${d.labelDiffers.inProject}"` : 'it unlabeled'}` : ''})`),
    summary.skipped.length ? `Skipped: ${summary.skipped.length}` : '',
    ...summary.skipped.map((s) => `  ${s.path}: ${s.reason}`)
  ].filter(Boolean);
  print(json, summary, lines.join('\n'));
  if (summary.cancelled) process.exitCode = 130;
}

const EXPORT_FORMATS = ['csv', 'coop', 'labelstudio', 'imagefolder'] as const;
const LINK_MODES = ['copy', 'symlink', 'hardlink'] as const;

async function exportLabelsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['format', 'out', 'include-unlabeled', 'link', 'by-split', 'overwrite', 'json', 'debug']);
  const format = stringFlag(args, 'format');
  const out = stringFlag(args, 'out');
  if (!format || !(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`export-labels needs --format ${EXPORT_FORMATS.join('|')}${format ? ` (got "${format}")` : ''}.`);
  if (!out) throw new UsageError('export-labels needs --out PATH (a file, a folder to save into, or for imagefolder the folder to create).');
  const link = stringFlag(args, 'link');
  if (link !== undefined && !(LINK_MODES as readonly string[]).includes(link)) throw new UsageError(`--link must be one of ${LINK_MODES.join(', ')} (got "${link}").`);
  if ((link !== undefined || args.flags.has('by-split')) && format !== 'imagefolder') throw new UsageError('--link and --by-split apply to --format imagefolder only.');
  const { exportTo } = await import('../services/label-export-to');
  const app = services();
  try {
    app.openProjectFile(requirePositional(args, 1, 'the project file'));
    const result = exportTo(app.project, {
      format: format as (typeof EXPORT_FORMATS)[number],
      target: path.resolve(out),
      includeUnlabeled: args.flags.has('include-unlabeled') || undefined,
      link: link as (typeof LINK_MODES)[number] | undefined,
      bySplit: args.flags.has('by-split'),
      overwrite: args.flags.has('overwrite')
    });
    const lines = [
      `${result.replaced ? 'Replaced' : 'Saved'} ${result.savedTo}: ${result.images} image(s)${result.left ? `, ${result.left} unlabeled left out` : ''}`,
      result.imageRoot ? `Image root: ${result.imageRoot}${format === 'labelstudio' ? ' (serve it with LOCAL_FILES_DOCUMENT_ROOT set to this folder)' : ''}` : '',
      result.labelConfig ? `Labeling config for the Label Studio project:\n${result.labelConfig.trimEnd()}` : '',
      ...result.renamed.map((r) => `  class "${r.name}" is in folder "${r.folder}"`),
      result.skipped.length ? `Not exported: ${result.skipped.length}` : '',
      ...result.skipped.slice(0, 50).map((s) => `  ${s.path}: ${s.reason}`)
    ].filter(Boolean);
    print(args.flags.has('json'), result, lines.join('\n'));
  } finally {
    app.dispose();
  }
}

async function infoCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['json', 'debug']);
  const app = services();
  app.openProjectFile(requirePositional(args, 1, 'the project file'));
  await app.checkMissing();
  const info = app.info();
  app.dispose();
  const p = info.project;
  const human = [
    `${p.name} (${p.path})`,
    `${p.imageCount} images, ${p.labeledCount} labeled, ${info.unlabeledCount} unlabeled, ${p.missingCount} missing; train ${p.splitCounts.train}, val ${p.splitCounts.val}, test ${p.splitCounts.test}`,
    ...info.classes.map((c) => `  ${c.name}: ${c.imageCount}`),
    info.problems.length ? `Problems (${info.problems.length}):` : 'No problems.',
    ...info.problems.slice(0, 50).map((pr) => `  [${pr.kind}] ${pr.path}: ${pr.reason}`)
  ];
  print(args.flags.has('json'), info, human.join('\n'));
}

async function serveCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['port', 'project', 'json', 'debug']);
  const rawPort = stringFlag(args, 'port');
  const port = rawPort === undefined ? 0 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535 (got "${rawPort}").`);
  const app = services();
  const project = stringFlag(args, 'project');
  if (project) app.openProjectFile(project);
  const server = await startWebServer({ services: app, staticDir: path.join(packageRoot(), 'out', 'renderer'), port });
  print(args.flags.has('json'), { url: server.url, port: server.port }, `MoCoOp Workbench (web mode) is running. Open:\n  ${server.url}\nPress Ctrl+C to stop.`);
  const stop = () => {
    app.dispose();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function backendFlag(args: ParsedArgs): BackendPreference {
  const value = stringFlag(args, 'backend') ?? process.env.MOCOOP_BACKEND ?? 'auto';
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(value)) throw new UsageError(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')} (got "${value}").`);
  process.env.MOCOOP_BACKEND = value;
  return value as BackendPreference;
}

async function clipCommand(command: 'tokenize' | 'embed-text' | 'embed-image', args: ParsedArgs): Promise<void> {
  checkFlags(args, ['model', 'backend', 'json', 'debug']);
  const dir = stringFlag(args, 'model');
  if (!dir) throw new UsageError(`${command} needs --model DIR (a HuggingFace CLIP folder).`);
  const inputs = args.positional.slice(1);
  if (inputs.length === 0) throw new UsageError(command === 'embed-image' ? 'Give one or more image files.' : 'Give one or more texts.');
  const backend = await initBackend(backendFlag(args));
  const { ClipEngine } = await import('../clip/engine');
  let engine;
  try {
    engine = ClipEngine.load(path.resolve(dir));
  } catch (error) {
    throw new AppError('bad_source', (error as Error).message);
  }
  try {
    const json = args.flags.has('json');
    if (command === 'tokenize') {
      const ids = engine.tokenize(inputs).map((row) => Array.from(row));
      print(json, { input_ids: ids }, ids.map((row, i) => `${inputs[i]}\t${row.slice(0, engine.tokenizer.eotIndex(row) + 1).join(' ')}`).join('\n'));
      return;
    }
    let vectors: Float32Array[];
    if (command === 'embed-text') vectors = await engine.embedTextsAsync(inputs);
    else {
      const results = await engine.embedImageFiles(inputs.map((f) => path.resolve(f)));
      const failed = results.find((r) => r.error);
      if (failed) throw new AppError('bad_source', `${inputs[failed.index]}: ${failed.error}`);
      vectors = results.map((r) => r.vector!);
    }
    const embeddings = vectors.map((v) => Array.from(v));
    print(json, { embeddings }, `${embeddings.length} embedding(s) of ${engine.dim} values on ${backend.name} (${backend.device})\n` + embeddings.map((e, i) => `${inputs[i]}\t${e.slice(0, 4).map((x) => x.toFixed(4)).join(' ')} …`).join('\n'));
  } finally {
    engine.dispose();
  }
}

async function modelsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['name', 'json', 'debug', 'endpoint']);
  const json = args.flags.has('json');
  const sub = args.positional[1];
  const app = services();
  try {
    if (sub === 'list') {
      const models = app.clip.models.list();
      print(json, { models }, models.length ? models.map((m) => `${m.id}\t${m.available ? m.summary : 'UNAVAILABLE: ' + m.problem}\t${m.dir}`).join('\n') : 'No models installed. Run "mocoop models download" or "mocoop models import DIR".');
    } else if (sub === 'import') {
      const model = await app.clip.models.register(requirePositional(args, 2, 'the model folder'), { source: 'import', name: stringFlag(args, 'name') });
      print(json, model, `Imported ${model.name} as ${model.id} (${model.summary})`);
    } else if (sub === 'download') {
      const repo = args.positional[2] ?? 'openai/clip-vit-base-patch16';
      const interactive = !json && process.stderr.isTTY;
      app.events.subscribe((name, payload) => {
        if (name !== 'models.downloadProgress' || !interactive) return;
        const p = payload as { file: string; bytesDone: number; bytesTotal: number; bytesPerSecond: number };
        process.stderr.write(`\r${p.file}: ${((100 * p.bytesDone) / Math.max(1, p.bytesTotal)).toFixed(1)}% (${(p.bytesPerSecond / 2 ** 20).toFixed(1)} MB/s)   `);
      });
      const id = `cli-${Date.now()}`;
      process.once('SIGINT', () => app.handlers()['models.cancelDownload']({ downloadId: id }));
      const model = await app.clip.download(id, repo, stringFlag(args, 'endpoint'));
      if (interactive) process.stderr.write('\n');
      print(json, model, `Downloaded ${repo} as ${model.id} into ${model.dir}`);
    } else throw new UsageError(`Unknown models command "${sub ?? ''}". Use: models list | download [REPO] | import DIR.`);
  } finally {
    app.dispose();
  }
}

async function zeroshotCommand(args: ParsedArgs, argv: string[]): Promise<void> {
  checkFlags(args, ['model', 'templates', 'template', 'split', 'backend', 'json', 'debug']);
  backendFlag(args);
  const modelArg = stringFlag(args, 'model');
  if (!modelArg) throw new UsageError('zeroshot needs --model DIR (a CLIP folder) or the id of an installed model.');
  const split = stringFlag(args, 'split');
  if (split !== undefined && !['train', 'val', 'test'].includes(split)) throw new UsageError('--split must be train, val or test.');
  const single = argv.flatMap((arg, i) => (arg === '--template' && argv[i + 1] ? [argv[i + 1]!] : arg.startsWith('--template=') ? [arg.slice(11)] : []));
  if (args.flags.get('template') === true) throw new UsageError('--template needs a value (a template with {} for the class name).');
  const app = services();
  try {
    let templates = single;
    if (templates.length === 0) {
      const setId = stringFlag(args, 'templates') ?? 'imagenet-7';
      const set = loadTemplateLibrary().sets.find((s) => s.id === setId);
      if (!set) throw new UsageError(`Unknown template set "${setId}". Sets: ${loadTemplateLibrary().sets.map((s) => s.id).join(', ')}.`);
      templates = set.templates;
    }
    // The limits of the app's zero-shot request (count of templates), so results read back alike.
    checkUsage(requests['zeroshot.run'].input.shape.templates, templates, () => (single.length ? '--template' : 'the template set'));
    const asDir = path.resolve(modelArg);
    const model = fs.existsSync(asDir) && fs.statSync(asDir).isDirectory() ? await app.clip.models.register(asDir, { source: 'import' }) : app.clip.models.get(modelArg);
    app.openProjectFile(requirePositional(args, 1, 'the project file'));
    const report = await app.clip.runZeroShot(`cli-${Date.now()}`, model.id, templates, split as 'train' | 'val' | 'test' | undefined);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const human = [
      `Zero-shot accuracy ${pct(report.accuracy)} on ${report.images} images (${report.model.name}, ${report.backend}, ${report.templates.length} templates, ${report.seconds.toFixed(1)} s)`,
      'Per class:',
      ...report.perClass.map((c) => `  ${c.className}: ${pct(c.accuracy)} (${c.correct}/${c.images})`),
      'Per template:',
      ...report.perTemplate.map((t) => `  ${pct(t.accuracy)}  ${t.template}`),
      ...(report.skipped.length ? ['Skipped:', ...report.skipped.map((s) => `  ${s.path}: ${s.reason}`)] : [])
    ];
    print(args.flags.has('json'), report, human.join('\n'));
  } finally {
    app.dispose();
  }
}

function numberFlag(args: ParsedArgs, name: string, integer: boolean, min: number): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got "${raw}").`);
  }
  return value;
}

/** Checks CLI values against a contract schema (the app's limits); a value out of range is a usage error naming the flag. */
function checkUsage<S extends z.ZodType>(schema: S, value: unknown, name: (path: string) => string): z.output<S> {
  try {
    return checkWithContract(schema, value, name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The setting of a TrainStart request that each train flag sets. */
const TRAIN_FLAGS: Record<string, string> = { augViews: 'aug-views', topK: 'k-experts', epochs: 'epochs', batchSize: 'batch-size', lr: 'lr', seed: 'seed', setId: 'set' };

function openTraining(args: ParsedArgs): { app: AppServices; training: TrainingService } {
  const app = services();
  app.openProjectFile(requirePositional(args, 1, 'the project file'));
  return { app, training: new TrainingService(app.project) };
}

async function templatesCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['import', 'export', 'json', 'debug']);
  const importFile = stringFlag(args, 'import');
  const exportFile = stringFlag(args, 'export');
  if (!!importFile === !!exportFile) throw new UsageError('Give --import FILE or --export FILE.');
  const { app, training } = openTraining(args);
  try {
    if (importFile) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(fs.readFileSync(importFile, 'utf8'));
      } catch (error) {
        throw new AppError('bad_source', `${importFile}: cannot be read as JSON (${(error as Error).message}).`);
      }
      // The app's own request schema: the same limits on groups, templates and their lengths.
      const schema = requests['templates.setGroups'].input;
      const shape = schema.safeParse(parsed);
      if (!shape.success && shape.error.issues.some((i) => i.code !== 'too_big')) {
        const issue = shape.error.issues.find((i) => i.code !== 'too_big')!;
        throw new AppError('bad_source', `${importFile}: expected {"groups": [{"name": "...", "templates": ["a photo of a {}.", ...]}, ...]} (${issue.path.join('.')}: ${issue.message}).`);
      }
      const data = checkWithContract(schema, parsed, (where) => `${importFile}: ${where}`, 'bad_source');
      const groups = training.training.replaceTemplateGroups(data.groups);
      print(args.flags.has('json'), { groups: groups.map((g) => ({ name: g.name, templates: g.templates })) }, `Imported ${groups.length} group(s) with ${groups.reduce((n, g) => n + g.templates.length, 0)} templates.`);
    } else {
      const groups = training.training.templateGroups().map((g) => ({ name: g.name, templates: g.templates }));
      fs.writeFileSync(exportFile!, JSON.stringify({ groups }, null, 2));
      print(args.flags.has('json'), { groups }, `Exported ${groups.length} group(s) to ${exportFile}.`);
    }
  } finally {
    app.dispose();
  }
}

async function fewshotCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['k', 'seed', 'base-new', 'name', 'json', 'debug']);
  const k = numberFlag(args, 'k', true, 1);
  if (k === undefined) throw new UsageError('fewshot needs --k N (images per class).');
  const seed = numberFlag(args, 'seed', true, 0) ?? 1;
  checkUsage(requests['fewshot.create'].input, { k, seed, baseNew: args.flags.has('base-new'), name: stringFlag(args, 'name') }, (where) => `--${where}`);
  const { app, training } = openTraining(args);
  try {
    const set = training.createFewShotSet(k, seed, args.flags.has('base-new'), stringFlag(args, 'name'));
    print(args.flags.has('json'), set, `Created few-shot set #${set.id} "${set.name}": ${set.imageIds.length} images, ${set.baseClassIds.length} base class(es)${set.newClassIds.length ? `, ${set.newClassIds.length} new` : ''}.`);
  } finally {
    app.dispose();
  }
}

async function runsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['json', 'debug']);
  const { app, training } = openTraining(args);
  try {
    const runs = training.training.runs().map((r) => ({
      id: r.id,
      method: r.method,
      status: r.status,
      created_at: r.createdAt,
      accuracy: (r.metrics?.accuracy as number | undefined) ?? null,
      base_accuracy: (r.metrics?.base_accuracy as number | null | undefined) ?? null,
      new_accuracy: (r.metrics?.new_accuracy as number | null | undefined) ?? null,
      h: (r.metrics?.h as number | null | undefined) ?? null,
      seed: r.settings.seed ?? null
    }));
    const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
    print(args.flags.has('json'), { runs }, runs.map((r) => `${r.id}\t${r.method}\t${r.status}\tacc ${pct(r.accuracy)}\tbase ${pct(r.base_accuracy)}\tnew ${pct(r.new_accuracy)}\tH ${pct(r.h)}`).join('\n') || 'No runs yet.');
  } finally {
    app.dispose();
  }
}

async function reportCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['run', 'out', 'json', 'debug']);
  const runId = stringFlag(args, 'run');
  const out = stringFlag(args, 'out');
  if (!runId || !out) throw new UsageError('report needs --run ID and --out DIR.');
  const { app, training } = openTraining(args);
  try {
    const files = writeReport(path.resolve(out), training.reportInput(runId, packageVersion()));
    print(args.flags.has('json'), files, `Report written:\n  ${files.html}\n  ${files.json}\n  ${files.csv}`);
  } finally {
    app.dispose();
  }
}

async function exchangeCommand(command: 'export' | 'import-experts', args: ParsedArgs): Promise<void> {
  checkFlags(args, ['run', 'out', 'from', 'json', 'debug']);
  const { app, training } = openTraining(args);
  try {
    if (command === 'export') {
      const runId = stringFlag(args, 'run');
      const out = stringFlag(args, 'out');
      if (!runId || !out) throw new UsageError('export needs --run ID and --out DIR.');
      // Checked on its real path before anything is written (a link to /proc would hang the mkdir).
      const files = training.exportRun(runId, checkOutputFolder(path.resolve(out), 'the exported experts'));
      print(args.flags.has('json'), files, `Exported ${runId}:\n  ${files.weights}\n  ${files.manifest}`);
    } else {
      const from = stringFlag(args, 'from');
      if (!from) throw new UsageError('import-experts needs --from DIR (a folder written by "mocoop export").');
      const runId = training.importRun(path.resolve(from));
      print(args.flags.has('json'), { run: runId }, `Imported as run ${runId}.`);
    }
  } finally {
    app.dispose();
  }
}

/** Loss weights and temperatures: the CLI flag and the setting it sets. */
const LOSS_FLAGS: [string, (typeof LOSS_KEYS)[number]][] = [
  ['lambda1', 'lambda1'],
  ['lambda2', 'lambda2'],
  ['lambda-kg', 'lambdaKg'],
  ['tau-ce', 'tauCe'],
  ['tau-gate', 'tauGate'],
  ['tau-text', 'tauText']
];

async function trainCommand(command: 'train' | 'eval', args: ParsedArgs): Promise<void> {
  checkFlags(args, ['model', 'method', 'preset', 'schedule', 'k-experts', 'epochs', 'batch-size', 'lr', 'seed', 'set', 'run', 'on', 'classes-from', 'seeds', 'resume', 'rerun', 'aug-views', 'backend', 'json', 'debug', ...LOSS_FLAGS.map(([flag]) => flag)]);
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
    if (command !== 'train' || ['seed', 'resume', 'rerun'].some((f) => stringFlag(args, f) !== undefined)) throw new UsageError('--seeds trains new runs: it cannot be combined with --seed, --resume or --rerun.');
    const parts = seedsFlag.split(',').map((p) => p.trim());
    if (parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--seeds takes whole numbers separated by commas, e.g. 1,2,3 (got "${seedsFlag}").`);
    seedList = parts.map(Number);
    if (new Set(seedList).size !== seedList.length) throw new UsageError(`--seeds lists a seed twice (got "${seedsFlag}").`);
    if (seedList.length > 20) throw new UsageError(`--seeds takes at most 20 seeds (got ${seedList.length}).`);
  }
  const modelArg = stringFlag(args, 'model');
  if (!modelArg && command === 'train' && !stringFlag(args, 'resume') && !stringFlag(args, 'rerun')) throw new UsageError('train needs --model DIR (a CLIP folder) or the id of an installed model.');
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
  checkUsage(TrainStart.pick({ augViews: true, topK: true, epochs: true, batchSize: true, lr: true, seed: true, setId: true }), given, (where) => `--${TRAIN_FLAGS[where] ?? where}`);
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
    augViews: fromRecord('augViews') ?? numberFlag(args, 'aug-views', true, 0),
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
    const model = fs.existsSync(asDir) && fs.statSync(asDir).isDirectory() ? await app.clip.models.register(asDir, { source: 'import' }) : app.clip.models.get(target);
    const backend = await initBackend(backendPref);
    const { ClipEngine } = await import('../clip/engine');
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
        const openLine = ov ? `classes from ${ov.classes_from}: ${ov.trained.length} the run was trained with, ${ov.added.length} added through its experts${ov.added.length ? ` (${ov.added.slice(0, 5).join(', ')}${ov.added.length > 5 ? ', …' : ''})` : ''}` : '';
        print(json, result, [`${result.method} ${runId}: accuracy ${pct(result.accuracy)} on ${result.images} test images`, openLine, result.h !== null ? `base ${pct(result.base_accuracy)} · new ${pct(result.new_accuracy)} · H ${pct(result.h)}` : '', ...result.per_class.map((c) => `  ${c.class} (${c.role}): ${pct(c.accuracy)} (${c.correct}/${c.images})`)].filter(Boolean).join('\n'));
        return;
      }
      let stop = false;
      process.once('SIGINT', () => (stop = true));
      const backendText = `${backend.name} · ${backend.device} · text tower on ${(await engine.textGradients()).describe}`;
      // --seeds: one run per seed, each on the set sampled with its seed (see seedSets), then mean ± std.
      const plan = seedList ? training.seedSets(options.setId, seedList) : null;
      if (plan && !json) plan.filter((p) => p.created).forEach((p) => process.stderr.write(`Seed ${p.seed}: sampled few-shot set #${p.set.id} "${p.set.name}".\n`));
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
            else if (process.stderr.isTTY) process.stderr.write(`\r${item ? `seed ${item.seed} ` : ''}epoch ${e.epoch} step ${e.step}: loss ${e.loss.toFixed(4)} (ce ${e.l_ce.toFixed(3)}, gate ${e.l_gate.toFixed(3)}, text ${e.l_text.toFixed(3)}) lr ${e.lr.toExponential(2)}   `);
          },
          () => stop
        );
        finished.push(runId);
        const run = training.training.run(runId);
        if (json) process.stdout.write(JSON.stringify({ event: 'done', run: runId, status: run.status, metrics: run.metrics }) + '\n');
        else process.stdout.write(`\nRun ${runId}${item ? ` (seed ${item.seed})` : ''}: ${run.status}${run.metrics ? `, test accuracy ${(100 * (run.metrics as { accuracy: number }).accuracy).toFixed(1)}%` : ''}\n`);
      }
      if (plan) {
        const records = finished.map((id) => training.training.run(id));
        const metric = (r: (typeof records)[number], key: SeedMetric) => ((r.metrics?.[key] as number | null | undefined) ?? null);
        const spread = seedSpread(records.map((r) => ({ id: r.id, seed: (r.settings.seed as number | undefined) ?? null, metrics: { accuracy: metric(r, 'accuracy'), base_accuracy: metric(r, 'base_accuracy'), new_accuracy: metric(r, 'new_accuracy'), h: metric(r, 'h') } })));
        const summary = {
          event: 'seeds',
          seeds: spread.seeds,
          runs: records.map((r) => {
            const item = plan.find((p) => p.seed === r.settings.seed)!;
            return { run: r.id, seed: item.seed, set: item.set.id, set_created: item.created, status: r.status, accuracy: metric(r, 'accuracy'), base_accuracy: metric(r, 'base_accuracy'), new_accuracy: metric(r, 'new_accuracy'), h: metric(r, 'h') };
          }),
          mean: spread.mean,
          std: spread.std,
          std_kind: 'population (numpy np.std, ddof 0, as Dassl parse_test_res)'
        };
        if (json) process.stdout.write(JSON.stringify(summary) + '\n');
        else {
          const pm = (key: SeedMetric, label: string) => (spread.mean[key] === null ? '' : `  ${label.padEnd(9)}${(100 * spread.mean[key]!).toFixed(2)} ± ${(100 * spread.std[key]!).toFixed(2)}%`);
          process.stdout.write([`${records.length} seed(s) (${spread.seeds.join(', ')}), mean ± std:`, pm('accuracy', 'accuracy'), pm('base_accuracy', 'base'), pm('new_accuracy', 'new'), pm('h', 'H')].filter(Boolean).join('\n') + '\n');
        }
      }
    } finally {
      engine.dispose();
    }
  } finally {
    app.dispose();
  }
}

/**
 * Resolves once everything written to `stream` so far has been handed to the OS. Writes to a pipe
 * are asynchronous on POSIX: exiting right after a large write would cut the document off at the
 * pipe's buffer size (64 KiB), so every command waits for this before the process exits.
 */
export function flushStream(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    // The callback of an empty write runs after every earlier write has been flushed (or failed: a
    // reader that went away, e.g. "| head", is not an error of the command).
    stream.write('', () => resolve());
  });
}

/** The project file a command names (its first argument after the command), for messages about the disk. */
function projectFileArg(argv: string[]): string | undefined {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const [command, first, second] = positional;
  const file = command === 'project' ? second : first;
  return file && file.toLowerCase().endsWith('.mocoop') ? path.resolve(file) : undefined;
}

/** A reader that stops early ("mocoop … --json | head") closes the pipe: not a failure of the command. */
function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

export async function main(argv: string[]): Promise<number> {
  if (!process.stdout.listeners('error').includes(ignoreClosedPipe)) process.stdout.on('error', ignoreClosedPipe);
  const code = await runCommand(argv);
  await Promise.all([flushStream(process.stdout), flushStream(process.stderr)]);
  return code;
}

async function runCommand(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    const args = parseArgs(argv, BOOLEANS);
    debug = args.flags.has('debug');
    const command = args.positional[0];
    if (!command || args.flags.has('help') || command === 'help') {
      process.stdout.write(USAGE + '\n');
      return command || args.flags.has('help') ? 0 : 2;
    }
    switch (command) {
      case 'project':
        await projectCommand(args);
        break;
      case 'import':
        await importCommand(args, argv);
        break;
      case 'info':
        await infoCommand(args);
        break;
      case 'export-labels':
        await exportLabelsCommand(args);
        break;
      case 'serve':
        await serveCommand(args);
        break;
      case 'tokenize':
      case 'embed-text':
      case 'embed-image':
        await clipCommand(command, args);
        break;
      case 'models':
        await modelsCommand(args);
        break;
      case 'zeroshot':
        await zeroshotCommand(args, argv);
        break;
      case 'templates':
        await templatesCommand(args);
        break;
      case 'fewshot':
        await fewshotCommand(args);
        break;
      case 'train':
      case 'eval':
        await trainCommand(command, args);
        break;
      case 'report':
        await reportCommand(args);
        break;
      case 'runs':
        await runsCommand(args);
        break;
      case 'backends': {
        checkFlags(args, ['backend', 'json', 'debug']);
        const { backendsReport } = await import('./backends-command');
        const report = await backendsReport(backendFlag(args));
        print(args.flags.has('json'), report.json, report.text);
        return 0;
      }
      case 'export':
      case 'import-experts':
        await exchangeCommand(command, args);
        break;
      default:
        throw new UsageError(`Unknown command "${command}". Run "mocoop --help" for the list.`);
    }
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (debug) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    else if (error instanceof UsageError) process.stderr.write(`mocoop: ${error.message}\n`);
    else if (error instanceof AppError) process.stderr.write(`mocoop: ${error.message}\n`);
    else if (describeSystemError(error, projectFileArg(argv))) process.stderr.write(`mocoop: ${describeSystemError(error, projectFileArg(argv))!.message}\n`);
    else if (error instanceof Error && USER_FACING_ERRORS.has(error.name)) process.stderr.write(`mocoop: ${error.message}\n`);
    else process.stderr.write(`mocoop: unexpected error: ${(error as Error)?.message ?? String(error)} (run with --debug for details)\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] && /cli[\\/]main\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    if (process.argv[2] !== 'serve' || code !== 0) process.exit(code);
  });
}
