import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCliProcess } from '../helpers/cli';
import { tempDir } from '../helpers/temp';

describe('CLI --json output through a pipe', () => {
  let tmp: ReturnType<typeof tempDir>;
  let project: string;

  beforeAll(async () => {
    tmp = tempDir();
    project = path.join(tmp.dir, 'pipe.mocoop');
    expect((await runCli(['project', 'create', project, '--json'], tmp.dir)).code).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it('a document of about 2 MB arrives whole: the process flushes stdout before it exits', async () => {
    // 20,000 CSV rows naming missing files: every one is listed in "skipped", ~2 MB of JSON, with no image work.
    const csv = path.join(tmp.dir, 'big.csv');
    const rows = Array.from({ length: 20_000 }, (_, i) => `missing/some/longish/folder/name/image_${i}.jpg,class_${i % 10}`);
    fs.writeFileSync(csv, `path,label\n${rows.join('\n')}\n`);
    // A process of its own: what is checked is its exit after a write larger than the pipe's buffer.
    const result = await spawnCliProcess(['import', project, '--csv', csv, '--json'], tmp.dir, { timeoutMs: 50_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(1_000_000);
    const summary = JSON.parse(result.stdout);
    expect(summary.imported).toBe(0);
    expect(summary.skipped).toHaveLength(20_000);
    expect(result.stdout.endsWith('}\n')).toBe(true);
  });
});
