import type { ImportHoldOut, ImportProgress, ImportSource, ImportSummary } from '$contract/index';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { toBase64 } from '../lib/format';
import { toasts } from './toasts.svelte';

const UPLOAD_BATCH_BYTES = 48 * 2 ** 20;

/** Per split and per class counts of several batches, added up (classes in first-seen order, unlabeled last). */
function mergeCounts(parts: ImportSummary[]): Pick<ImportSummary, 'splitCounts' | 'perClass'> {
  const splitCounts = { train: 0, val: 0, test: 0 };
  const perClass = new Map<string | null, { name: string | null; train: number; val: number; test: number }>();
  for (const part of parts) {
    if (part.splitCounts) for (const k of ['train', 'val', 'test'] as const) splitCounts[k] += part.splitCounts[k];
    for (const row of part.perClass ?? []) {
      const sum = perClass.get(row.name) ?? { name: row.name, train: 0, val: 0, test: 0 };
      for (const k of ['train', 'val', 'test'] as const) sum[k] += row[k];
      perClass.set(row.name, sum);
    }
  }
  return { splitCounts, perClass: [...perClass.values()].sort((a, b) => (a.name === null ? 1 : 0) - (b.name === null ? 1 : 0)) };
}

export function mergeSummaries(parts: ImportSummary[]): ImportSummary {
  return {
    ...mergeCounts(parts),
    holdOut: parts[0]?.holdOut ?? null,
    importId: parts[0]?.importId ?? '',
    cancelled: parts.some((p) => p.cancelled),
    imported: parts.reduce((n, p) => n + p.imported, 0),
    classesCreated: parts.flatMap((p) => p.classesCreated),
    duplicates: parts.flatMap((p) => p.duplicates),
    skipped: parts.flatMap((p) => p.skipped),
    seconds: parts.reduce((n, p) => n + p.seconds, 0)
  };
}

/** One import at a time: its live progress, cancel, and the summary of what was imported and skipped. */
class ImportState {
  #running = $state(false);
  #progress = $state<ImportProgress | null>(null);
  #summary = $state<ImportSummary | null>(null);
  #importId = '';

  constructor() {
    bridge.on('import.progress', (p) => {
      if (p.importId === this.#importId) this.#progress = p;
    });
  }

  /** An import is running (one at a time). */
  get running(): boolean {
    return this.#running;
  }
  /** The running import's progress (in web mode, also the reading of the dropped files). */
  get progress(): ImportProgress | null {
    return this.#progress;
  }
  /** What the last import imported and skipped. */
  get summary(): ImportSummary | null {
    return this.#summary;
  }

  #newId(): string {
    this.#importId = `import-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    return this.#importId;
  }

  /** `holdOut`: split on import (a stratified test/validation share per class, in the import's own transaction). */
  async run(source: ImportSource, holdOut?: ImportHoldOut): Promise<ImportSummary | null> {
    return this.#guard(async () => api.import.run({ importId: this.#newId(), source, ...(holdOut ? { holdOut } : {}) }));
  }

  /** Dropped files: by path in Electron; in web mode their bytes are sent in batches and kept beside the project. */
  async drop(files: File[], holdOut?: ImportHoldOut): Promise<ImportSummary | null> {
    if (bridge.pathForFile) {
      const paths = files.map((f) => bridge.pathForFile!(f)).filter(Boolean);
      return this.run({ kind: 'paths', paths }, holdOut);
    }
    return this.#guard(async () => {
      const parts: ImportSummary[] = [];
      let batch: { name: string; dataBase64: string }[] = [];
      let bytes = 0;
      const flush = async () => {
        if (batch.length) parts.push(await api.import.upload({ importId: this.#newId(), files: batch, ...(holdOut ? { holdOut } : {}) }));
        batch = [];
        bytes = 0;
      };
      for (const file of files) {
        if (bytes + file.size > UPLOAD_BATCH_BYTES || batch.length >= 500) await flush();
        batch.push({ name: file.name, dataBase64: toBase64(await file.arrayBuffer()) });
        bytes += file.size;
        this.#progress = {
          importId: this.#importId,
          phase: 'reading',
          done: parts.reduce((n, p) => n + p.imported + p.skipped.length + p.duplicates.length, 0),
          total: files.length,
          skipped: 0
        };
      }
      await flush();
      return mergeSummaries(parts);
    });
  }

  async #guard(work: () => Promise<ImportSummary>): Promise<ImportSummary | null> {
    if (this.#running) {
      toasts.show('An import is already running.');
      return null;
    }
    this.#summary = null;
    this.#progress = null;
    const summary = await attempt(
      async () => {
        this.#summary = await work();
        return this.#summary;
      },
      { busy: (on) => (this.#running = on) }
    );
    return summary ?? null;
  }

  async cancel(): Promise<void> {
    if (this.#importId) await api.import.cancel({ importId: this.#importId });
  }

  /** Forgets the last import's summary and progress (the dialog opened again, or "Import more"). */
  reset(): void {
    this.#summary = null;
    this.#progress = null;
  }
}

export const importer = new ImportState();
