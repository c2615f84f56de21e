/** Checksums of downloaded content, computed the way the hub publishes them (sha256 for LFS, git blob sha1). */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import type { HubFile } from './api';
import { ChecksumMismatch, cancelled } from './errors';

/** Running checksum of a file's content, matching what the hub publishes for it. */
export class ContentHash {
  private readonly hash: Hash | null;
  private readonly kind: 'sha256' | 'git-sha1' | 'none';

  constructor(private readonly file: HubFile) {
    if (file.sha256) {
      this.kind = 'sha256';
      this.hash = createHash('sha256');
    } else if (file.gitSha1) {
      this.kind = 'git-sha1';
      this.hash = createHash('sha1');
      this.hash.update(`blob ${file.size}\0`);
    } else {
      this.kind = 'none';
      this.hash = null;
    }
  }

  update(chunk: Uint8Array): void {
    this.hash?.update(chunk);
  }

  /** Throws ChecksumMismatch unless `bytes` and the digest match the hub's. */
  verify(bytes: number): void {
    if (bytes !== this.file.size) throw new ChecksumMismatch(`${this.file.size} bytes`, `${bytes} bytes`);
    if (!this.hash) return;
    const digest = this.hash.digest('hex');
    const expected = this.kind === 'sha256' ? this.file.sha256! : this.file.gitSha1!;
    const label = this.kind === 'sha256' ? 'sha256' : 'git sha1';
    if (digest !== expected) throw new ChecksumMismatch(`${label} ${expected}`, `${label} ${digest}`);
  }
}

export async function hashExisting(file: string, bytes: number, hash: ContentHash, signal: AbortSignal | undefined): Promise<void> {
  if (bytes === 0) return;
  const stream = fs.createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw cancelled(signal.reason);
      hash.update(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
}
