/** Download progress: bytes done over all files, speed over a sliding window, and the time left. */
import type { HubFile } from './api';

const PROGRESS_INTERVAL_MS = 100;
const SPEED_WINDOW_MS = 5000;

export interface DownloadProgress {
  file: string;
  /** 0-based index of `file` among the files being downloaded. */
  fileIndex: number;
  fileCount: number;
  /** Bytes on disk for all files together, including bytes resumed from earlier attempts. */
  bytesDone: number;
  /** Size of all files together. */
  bytesTotal: number;
  /** Transfer speed over a sliding window (network bytes only). */
  bytesPerSecond: number;
  etaSeconds: number | null;
}

export class ProgressTracker {
  private readonly done = new Map<string, number>();
  private readonly samples: { t: number; bytes: number }[] = [];
  private transferred = 0;
  private lastEmit = -Infinity;
  private current = { file: '', index: 0 };

  constructor(
    private readonly files: HubFile[],
    private readonly listener: ((p: DownloadProgress) => void) | undefined
  ) {
    this.samples.push({ t: performance.now(), bytes: 0 });
  }

  private get total(): number {
    return this.files.reduce((sum, f) => sum + f.size, 0);
  }

  private get bytesDone(): number {
    let sum = 0;
    for (const v of this.done.values()) sum += v;
    return sum;
  }

  startFile(index: number): void {
    this.current = { file: this.files[index]!.name, index };
  }

  /** Bytes of `file` already on disk (resumed or reset). */
  setFileBytes(file: string, bytes: number): void {
    this.done.set(file, bytes);
    this.emit(true);
  }

  /** Bytes just received from the network for the current file. */
  add(bytes: number): void {
    const file = this.current.file;
    this.done.set(file, (this.done.get(file) ?? 0) + bytes);
    this.transferred += bytes;
    this.emit(false);
  }

  private speed(now: number): number {
    const last = this.samples[this.samples.length - 1]!;
    if (now - last.t >= PROGRESS_INTERVAL_MS) this.samples.push({ t: now, bytes: this.transferred });
    while (this.samples.length > 2 && now - this.samples[1]!.t >= SPEED_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    return dt > 0 ? (this.transferred - first.bytes) / dt : 0;
  }

  emit(force: boolean, final = false): void {
    const now = performance.now();
    if (!force && now - this.lastEmit < PROGRESS_INTERVAL_MS) return;
    this.lastEmit = now;
    const bytesPerSecond = this.speed(now);
    if (!this.listener) return;
    const bytesTotal = this.total;
    const bytesDone = final ? bytesTotal : this.bytesDone;
    const remaining = Math.max(0, bytesTotal - bytesDone);
    this.listener({
      file: this.current.file,
      fileIndex: this.current.index,
      fileCount: this.files.length,
      bytesDone,
      bytesTotal,
      bytesPerSecond,
      etaSeconds: remaining === 0 ? 0 : bytesPerSecond > 0 ? remaining / bytesPerSecond : null
    });
  }
}
