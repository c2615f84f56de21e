/** `mocoop import`: images from a folder, CSV, CoOp split, Label Studio export or loose files, with an optional hold-out. */
import { ImportHoldOut, type ImportSource, type ImportSummary } from '../../contract';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { services, print, requirePositional } from '../common';

function importSourceFrom(args: ParsedArgs, argv: string[]): ImportSource {
  const folder = stringFlag(args, 'folder');
  const csv = stringFlag(args, 'csv');
  const split = stringFlag(args, 'coop-split');
  const labelStudio = stringFlag(args, 'label-studio');
  const files = argv.flatMap((arg, i) => (arg === '--files' && argv[i + 1] ? [argv[i + 1]!] : arg.startsWith('--files=') ? [arg.slice(8)] : []));
  if (args.flags.get('files') === true) throw new UsageError('--files needs a value (a file or folder).');
  const given = [folder, csv, split, labelStudio, files.length ? files : undefined].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new UsageError('Give exactly one source: --folder DIR, --csv FILE, --coop-split FILE --image-root DIR, --label-studio FILE, or --files PATH.');
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
  if (holdOut.data.testPercent + holdOut.data.valPercent >= 100)
    throw new UsageError('--test-percent and --val-percent together must be less than 100, so every class keeps images in the train pool.');
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

export async function importCommand(args: ParsedArgs, argv: string[]): Promise<void> {
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
      .map(
        (d) =>
          `  ${d.path} (same content as ${d.duplicateOf}${d.labelDiffers ? `; labeled "${d.labelDiffers.inSource}" here, the project keeps ${d.labelDiffers.inProject ? `"${d.labelDiffers.inProject}"` : 'it unlabeled'}` : ''})`
      ),
    summary.skipped.length ? `Skipped: ${summary.skipped.length}` : '',
    ...summary.skipped.map((s) => `  ${s.path}: ${s.reason}`)
  ].filter(Boolean);
  print(json, summary, lines.join('\n'));
  if (summary.cancelled) process.exitCode = 130;
}
