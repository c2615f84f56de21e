import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_FILES, DownloadError, type DownloadProgress, downloadModel, fetchRepoFiles } from '../../src-main/models/hub-download';
import { FAKE_COMMIT, type FakeHub, type FakeHubOptions, gitBlobSha1, sha256, startFakeHub } from '../helpers/fake-hub';
import { tempDir } from '../helpers/temp';
import { TINY_CLIP } from '../helpers/fixtures';

const fixtureDir = TINY_CLIP;
const REPO = 'openai/clip-tiny';
const fast = { retryDelayMs: 5 };

let fixture: Record<string, Buffer>;
let hub: FakeHub | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

beforeAll(() => {
  fixture = {};
  for (const name of CLIP_FILES) fixture[name] = fs.readFileSync(path.join(fixtureDir, name));
});

afterEach(async () => {
  await hub?.close();
  hub = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

async function setup(options: Partial<FakeHubOptions> = {}): Promise<{ hub: FakeHub; dest: string }> {
  hub = await startFakeHub({ repos: { [REPO]: fixture }, ...options });
  tmp = tempDir('hub-download-');
  return { hub, dest: path.join(tmp.dir, 'models', 'clip') };
}

function expectIdentical(dest: string, names: readonly string[] = CLIP_FILES): void {
  for (const name of names) {
    expect(fs.readFileSync(path.join(dest, name)).equals(fixture[name]!), name).toBe(true);
  }
}

/** Top-level entries of destDir other than the .partial folder. */
function finalFiles(dest: string): string[] {
  if (!fs.existsSync(dest)) return [];
  return fs.readdirSync(dest).filter((name) => name !== '.partial');
}

async function expectDownloadError(promise: Promise<unknown>, code: DownloadError['code']): Promise<DownloadError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected DownloadError '${code}', but the download succeeded`);
    },
    (e: unknown) => e
  );
  expect(error).toBeInstanceOf(DownloadError);
  expect((error as DownloadError).code).toBe(code);
  return error as DownloadError;
}

const resolveRequests = (h: FakeHub, file: string) => h.requests.filter((r) => r.path.includes('/resolve/') && r.path.endsWith(`/${file}`));

describe('fetchRepoFiles', () => {
  it('lists files with sizes, sha256 for LFS files and git blob ids for small ones', async () => {
    const { hub } = await setup();
    const files = await fetchRepoFiles(REPO, 'main', hub.url);
    const model = files.find((f) => f.name === 'model.safetensors')!;
    expect(model).toEqual({ name: 'model.safetensors', size: fixture['model.safetensors']!.length, sha256: sha256(fixture['model.safetensors']!) });
    const special = files.find((f) => f.name === 'special_tokens_map.json')!;
    // Value from `git hash-object special_tokens_map.json`.
    expect(special.gitSha1).toBe('7a09c77ad572cd15b82bbedad054b111728e93e6');
    expect(gitBlobSha1(fixture['special_tokens_map.json']!)).toBe(special.gitSha1);
    expect(special.sha256).toBeUndefined();
    expect(hub.requests[0]!.path).toBe(`/api/models/${REPO}/revision/main?blobs=true`);
  });

  it('rejects metadata of the wrong shape', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ siblings: [{ name: 'x' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const error = await expectDownloadError(fetchRepoFiles(REPO, 'main', `http://127.0.0.1:${port}`), 'bad_response');
      expect(error.message).toMatch(/unexpected metadata format/);
    } finally {
      server.close();
    }
  });
});

describe('downloadModel', () => {
  it('downloads byte-identical files (LFS via CDN redirect) and reports progress up to the total', async () => {
    const { hub, dest } = await setup({ redirectLfs: true });
    const events: DownloadProgress[] = [];
    const result = await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, onProgress: (p) => events.push(p), ...fast });

    expect(result.dir).toBe(path.resolve(dest));
    expect(result.files.map((f) => f.name)).toEqual([...CLIP_FILES]);
    expectIdentical(dest);
    expect(fs.existsSync(path.join(dest, '.partial'))).toBe(false);
    expect(finalFiles(dest).sort()).toEqual([...CLIP_FILES].sort());

    const total = CLIP_FILES.reduce((sum, name) => sum + fixture[name]!.length, 0);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ bytesDone: total, bytesTotal: total, fileCount: CLIP_FILES.length, etaSeconds: 0 });
    for (let i = 1; i < events.length; i++) expect(events[i]!.bytesDone).toBeGreaterThanOrEqual(events[i - 1]!.bytesDone);
    expect(new Set(events.map((e) => e.fileIndex)).size).toBe(CLIP_FILES.length);

    // Files resolve against the pinned commit; LFS files went through the CDN redirect.
    expect(resolveRequests(hub, 'config.json')[0]!.path).toBe(`/${REPO}/resolve/${FAKE_COMMIT}/config.json`);
    expect(hub.requests.some((r) => r.path.startsWith(`/cdn/${REPO}/`) && r.path.includes('model.safetensors'))).toBe(true);
    expect(hub.requests.every((r) => r.range === undefined)).toBe(true);
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    const size = fixture['model.safetensors']!.length;
    const { hub, dest } = await setup({ dropAfterBytes: { 'model.safetensors': 1_000_000 }, dropTimes: 2, redirectLfs: true });
    const events: DownloadProgress[] = [];
    await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, onProgress: (p) => events.push(p), ...fast });

    expectIdentical(dest);
    const ranges = hub.requests.filter((r) => r.path.includes('model.safetensors') && r.range).map((r) => r.range!);
    expect(ranges.length).toBeGreaterThanOrEqual(2);
    const starts = ranges.map((r) => Number(/^bytes=(\d+)-$/.exec(r)![1]));
    // fetch may discard the last chunks queued before the socket error, so N is at most the drop point.
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[0]).toBeLessThanOrEqual(1_000_000);
    expect(starts.every((n) => n > 0 && n < size)).toBe(true);
    expect(events.at(-1)!.bytesDone).toBe(events.at(-1)!.bytesTotal);
  });

  it('gives up with a network error after the configured retries', async () => {
    const { hub, dest } = await setup({ dropAfterBytes: { 'model.safetensors': 1_000_000 }, dropTimes: 100 });
    const error = await expectDownloadError(downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, retries: 2, ...fast }), 'network');
    expect(error.message).toMatch(/model\.safetensors.*3 attempts/);
    expect(resolveRequests(hub, 'model.safetensors')).toHaveLength(3);
    expect(finalFiles(dest)).toEqual([]);
    // The bytes received are kept for a later resume.
    expect(fs.statSync(path.join(dest, '.partial', 'model.safetensors.part')).size).toBeGreaterThan(0);
  });

  it('treats a stalled transfer as a network failure', async () => {
    const { hub, dest } = await setup({ chunkDelayMs: 5000 });
    const error = await expectDownloadError(
      downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, retries: 1, stallTimeoutMs: 100, ...fast }),
      'network'
    );
    expect(error.message).toMatch(/model\.safetensors.*no data received/);
    expect(resolveRequests(hub, 'model.safetensors')[1]!.range).toBe('bytes=65536-');
  });

  it('restarts from zero when the server ignores the Range header', async () => {
    const { hub, dest } = await setup({ ignoreRange: true });
    fs.mkdirSync(path.join(dest, '.partial'), { recursive: true });
    fs.writeFileSync(path.join(dest, '.partial', 'vocab.json.part'), 'garbage that is not the start of vocab.json');
    await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, ...fast });
    expectIdentical(dest);
    expect(resolveRequests(hub, 'vocab.json')[0]!.range).toMatch(/^bytes=\d+-$/);
  });

  it('verifies an already complete .part without downloading it again', async () => {
    const { hub, dest } = await setup();
    fs.mkdirSync(path.join(dest, '.partial'), { recursive: true });
    fs.writeFileSync(path.join(dest, '.partial', 'merges.txt.part'), fixture['merges.txt']!);
    await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, ...fast });
    expectIdentical(dest);
    expect(resolveRequests(hub, 'merges.txt')).toHaveLength(0);
  });

  it('retries a corrupted file once from zero', async () => {
    const { hub, dest } = await setup({ corrupt: { 'vocab.json': 1, 'special_tokens_map.json': 1 } });
    await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, ...fast });
    expectIdentical(dest);
    expect(resolveRequests(hub, 'vocab.json')).toHaveLength(2);
    expect(resolveRequests(hub, 'vocab.json')[1]!.range).toBeUndefined();
    expect(resolveRequests(hub, 'special_tokens_map.json')).toHaveLength(2);
  });

  it('fails with a checksum error when a file stays corrupted, leaving nothing in destDir', async () => {
    const { hub, dest } = await setup({ corrupt: { 'model.safetensors': 5 } });
    const error = await expectDownloadError(downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, ...fast }), 'checksum');
    expect(error.file).toBe('model.safetensors');
    expect(error.message).toContain('model.safetensors');
    expect(error.message).toContain(sha256(fixture['model.safetensors']!));
    expect(error.message).toMatch(/got sha256 [0-9a-f]{64}/);
    expect(resolveRequests(hub, 'model.safetensors')).toHaveLength(2);
    expect(finalFiles(dest)).toEqual([]);
    expect(fs.existsSync(path.join(dest, '.partial', 'model.safetensors.part'))).toBe(false);
  });

  it('cancels within a second, keeps the .part and resumes from it on the next call', async () => {
    const { hub, dest } = await setup({ chunkDelayMs: 10 });
    const controller = new AbortController();
    let aborted = false;
    const first = downloadModel({
      repo: REPO,
      destDir: dest,
      endpoint: hub.url,
      signal: controller.signal,
      ...fast,
      onProgress: (p) => {
        if (!aborted && p.file === 'model.safetensors' && p.bytesDone > fixture['config.json']!.length) {
          aborted = true;
          controller.abort();
        }
      }
    });
    await expectDownloadError(first, 'cancelled');
    expect(finalFiles(dest)).toEqual([]);
    const part = path.join(dest, '.partial', 'model.safetensors.part');
    const kept = fs.statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(fixture['model.safetensors']!.length);

    const events: DownloadProgress[] = [];
    await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, onProgress: (p) => events.push(p), ...fast });
    expectIdentical(dest);
    expect(resolveRequests(hub, 'model.safetensors').at(-1)!.range).toBe(`bytes=${kept}-`);
    // Config was complete on disk: verified, not fetched again.
    expect(resolveRequests(hub, 'config.json')).toHaveLength(1);
    expect(events.at(-1)!.bytesDone).toBe(events.at(-1)!.bytesTotal);
  });

  it('refuses a repo without model.safetensors before downloading anything', async () => {
    const { 'model.safetensors': _weights, ...rest } = fixture;
    hub = await startFakeHub({ repos: { 'openai/x': { ...rest, 'pytorch_model.bin': Buffer.from('pickle') } } });
    tmp = tempDir('hub-download-');
    const error = await expectDownloadError(downloadModel({ repo: 'openai/x', destDir: path.join(tmp.dir, 'm'), endpoint: hub.url, ...fast }), 'not_found');
    expect(error.message).toBe('openai/x has no model.safetensors; this app needs the safetensors weights');
    expect(hub.requests.filter((r) => r.path.includes('/resolve/'))).toHaveLength(0);
  });

  it('skips optional files the repo does not have', async () => {
    const rest = { ...fixture };
    delete rest['preprocessor_config.json'];
    hub = await startFakeHub({ repos: { [REPO]: rest } });
    tmp = tempDir('hub-download-');
    const dest = path.join(tmp.dir, 'm');
    const result = await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, ...fast });
    expect(result.files.map((f) => f.name)).not.toContain('preprocessor_config.json');
    expect(finalFiles(dest)).toHaveLength(CLIP_FILES.length - 1);
  });

  it('checks disk space before requesting any file', async () => {
    const { hub, dest } = await setup();
    let askedFor = '';
    const error = await expectDownloadError(
      downloadModel({
        repo: REPO,
        destDir: dest,
        endpoint: hub.url,
        freeBytes: async (dir) => {
          askedFor = dir;
          return 1_000_000;
        },
        ...fast
      }),
      'disk_space'
    );
    expect(error.message).toMatch(/needs 8\.\d MB .* only 977 KB is free/);
    // dest does not exist yet: the nearest existing parent is checked.
    expect(askedFor).toBe(tmp!.dir);
    expect(hub.requests.filter((r) => r.path.includes('/resolve/'))).toHaveLength(0);
  });

  it('reports an unknown repo as not_found', async () => {
    const { hub, dest } = await setup();
    const error = await expectDownloadError(downloadModel({ repo: 'nobody/nothing', destDir: dest, endpoint: hub.url, ...fast }), 'not_found');
    expect(error.message).toContain('nobody/nothing');
    expect(error.status).toBe(404);
  });

  it('explains gated repos and sends the token', async () => {
    const { hub, dest } = await setup({ gated: { [REPO]: 'hf_secret' } });
    const error = await expectDownloadError(downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, ...fast }), 'bad_response');
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/gated or private.*token/);

    await downloadModel({ repo: REPO, destDir: dest, endpoint: hub.url, token: 'hf_secret', ...fast });
    expectIdentical(dest);
    expect(resolveRequests(hub, 'model.safetensors')[0]!.authorization).toBe('Bearer hf_secret');
  });
});
