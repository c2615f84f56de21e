import type { DuplicateItem, ImportHoldOut, ImportProgress, ImportSource, ImportSummary, SkippedItem, Split, SplitCounts } from '../contract';
import { AppError, busyProjectError, isDatabaseBusy } from '../contract/errors';
import { naturalSort } from '../data/natural-compare';
import { checkSplitOptions, stratifiedSplit } from '../data/stratified-split';
import type { NewImage, ProjectStore } from '../store/project-store';
import { type ProbeResult, probeImage } from './image-probe';
import { describeSource, enumerateSource } from './sources';

export interface ImportOptions {
  importId: string;
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
  concurrency?: number;
  /**
   * Split on import: a stratified random hold-out of the new images, written in the import's own
   * transaction. Images the source already puts in validation or test stay there and count toward
   * the shares; the rest are drawn per class (unlabeled images form one group) with the seed.
   */
  holdOut?: ImportHoldOut;
}

/** The hold-out as fractions, refused in words before any file is read. */
function holdOutFractions(holdOut: ImportHoldOut): { testFraction: number; valFraction: number; seed: number } {
  const options = { testFraction: holdOut.testPercent / 100, valFraction: holdOut.valPercent / 100, seed: holdOut.seed };
  try {
    checkSplitOptions(options);
  } catch (error) {
    if (error instanceof RangeError) throw new AppError('invalid_input', `Split on import: ${error.message}; nothing was imported.`);
    throw error;
  }
  return options;
}

/** Imported images per split, and per class in the order the source first names them (unlabeled last). */
export function countSplits(images: readonly { label: string | null; split: Split }[]): {
  splitCounts: SplitCounts;
  perClass: (SplitCounts & { name: string | null })[];
} {
  const splitCounts = { train: 0, val: 0, test: 0 };
  const byClass = new Map<string | null, SplitCounts & { name: string | null }>();
  for (const image of images) {
    splitCounts[image.split]++;
    let row = byClass.get(image.label);
    if (!row) byClass.set(image.label, (row = { name: image.label, train: 0, val: 0, test: 0 }));
    row[image.split]++;
  }
  const perClass = [...byClass.values()].sort((a, b) => (a.name === null ? 1 : 0) - (b.name === null ? 1 : 0));
  return { splitCounts, perClass };
}

const PROGRESS_INTERVAL_MS = 100;

/**
 * Imports everything a source names: files are read, hashed and thumbnailed in parallel, then every
 * new image, the duplicate check and the import's record are ONE transaction. Cancelling (or any
 * failure) writes nothing.
 */
export async function runImport(store: ProjectStore, source: ImportSource, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const { importId, signal } = options;
  const summary = (partial: Partial<ImportSummary>): ImportSummary => ({
    importId,
    cancelled: false,
    imported: 0,
    classesCreated: [],
    duplicates: [],
    skipped: [],
    seconds: (performance.now() - started) / 1000,
    splitCounts: { train: 0, val: 0, test: 0 },
    perClass: [],
    holdOut: options.holdOut ?? null,
    ...partial
  });
  const fractions = options.holdOut ? holdOutFractions(options.holdOut) : null;
  const emit = options.onProgress ?? (() => {});
  const reusedId = () =>
    new AppError(
      'conflict',
      `An import with the id "${importId}" is already recorded in ${store.file}; nothing was imported. Start the import again (it gets a new id).`
    );
  // Checked again when writing; here so that a reused id is refused before any file is read.
  if (store.db.prepare('SELECT 1 FROM imports WHERE id = ?').get(importId)) throw reusedId();
  emit({ importId, phase: 'scanning', done: 0, total: 0, skipped: 0 });

  let enumerated;
  try {
    enumerated = await enumerateSource(source, signal);
  } catch (error) {
    if (signal?.aborted) return summary({ cancelled: true });
    throw error;
  }
  const { candidates } = enumerated;
  const skipped: SkippedItem[] = [...enumerated.skipped];
  const results: (ProbeResult | undefined)[] = new Array(candidates.length);
  let done = 0;
  let lastEmit = 0;
  let next = 0;
  const worker = async () => {
    while (next < candidates.length && !signal?.aborted) {
      const index = next++;
      const result = await probeImage(candidates[index]!.path);
      if (signal?.aborted) return;
      results[index] = result;
      done++;
      if (!result.ok) skipped.push({ path: candidates[index]!.path, reason: result.reason });
      const now = performance.now();
      if (now - lastEmit > PROGRESS_INTERVAL_MS || done === candidates.length) {
        lastEmit = now;
        emit({ importId, phase: 'reading', done, total: candidates.length, skipped: skipped.length, current: candidates[index]!.path });
      }
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, candidates.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  const sortedSkips = naturalSort(skipped, (s) => s.path);
  skipped.splice(0, skipped.length, ...sortedSkips);
  if (signal?.aborted) return summary({ cancelled: true, skipped });

  emit({ importId, phase: 'saving', done, total: candidates.length, skipped: skipped.length });
  // One IMMEDIATE transaction holds the import id check, the duplicate check against the project, the
  // new images and the import's record: a failure anywhere (a reused import id, another writer) leaves
  // the project as it was, and what is compared against is what is written against.
  const sourceName = describeSource(source);
  const write = store.db.transaction(() => {
    if (store.db.prepare('SELECT 1 FROM imports WHERE id = ?').get(importId)) throw reusedId();
    // In source order, so the first of several identical files is the one kept.
    const duplicates: DuplicateItem[] = [];
    const accepted: NewImage[] = [];
    const seen = new Map<string, string>();
    const className = new Map(store.listClasses().map((c) => [c.id, c.name]));
    candidates.forEach((candidate, index) => {
      const result = results[index];
      if (!result?.ok) return;
      const { image } = result;
      const existing = seen.has(image.hash) ? undefined : store.imageByHash(image.hash);
      const earlier = seen.get(image.hash) ?? existing?.path;
      if (earlier !== undefined) {
        const inProject = existing ? (className.get(store.images([existing.id])[0]?.labelId ?? -1) ?? null) : undefined;
        const differs = existing && candidate.label && candidate.label !== inProject;
        duplicates.push({
          path: candidate.path,
          duplicateOf: earlier,
          ...(differs ? { labelDiffers: { inProject: inProject ?? null, inSource: candidate.label! } } : {})
        });
        return;
      }
      seen.set(image.hash, candidate.path);
      accepted.push({ ...image, path: candidate.path, label: candidate.label, split: candidate.split, source: sourceName });
    });
    if (fractions && accepted.length) {
      // Keyed by path, so the same files, shares and seed give the same split whatever order they were read in.
      const { splits } = stratifiedSplit(
        accepted.map((a) => ({ key: a.path, stratum: a.label, ...(a.split !== 'train' ? { fixed: a.split } : {}) })),
        fractions
      );
      accepted.forEach((a, i) => (a.split = splits[i]!));
    }
    const classesCreated: string[] = [];
    const imported = accepted.length ? store.insertImages(accepted, classesCreated) : 0;
    store.recordImport(importId, sourceName, imported, skipped);
    return { imported, classesCreated, duplicates, ...countSplits(accepted) };
  });
  let written: ReturnType<typeof write>;
  try {
    written = write.immediate();
  } catch (error) {
    // Another writer held the project past the busy timeout: the transaction never began, nothing was written.
    if (isDatabaseBusy(error)) throw busyProjectError(store.file, 'another import');
    throw error;
  }
  return summary({ ...written, skipped });
}
