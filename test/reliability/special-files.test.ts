import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src-main/contract/errors';
import { runImport } from '../../src-main/importing/importer';
import { probeImage } from '../../src-main/importing/image-probe';
import { ProjectStore } from '../../src-main/store/project-store';
import { spawnCliProcess } from '../helpers/cli';
import { makeImage } from '../helpers/images';
import { tempDir } from '../helpers/temp';

const posix = process.platform !== 'win32';

/** Named pipes, sockets and devices: opening one to read waits for a writer forever (or never ends). */
describe.runIf(posix)('a FIFO, socket or device is refused at once', () => {
  let tmp: ReturnType<typeof tempDir>;
  let fifo: string;
  let socketPath: string;
  let server: net.Server;

  beforeAll(async () => {
    tmp = tempDir();
    fifo = path.join(tmp.dir, 'pipe.mocoop');
    execFileSync('mkfifo', [fifo]);
    socketPath = path.join(tmp.dir, 'socket.mocoop');
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    tmp.cleanup();
  });

  it('mocoop info on a FIFO project ends at once with a sentence (it blocked forever)', async () => {
    // A process of its own, killed after 15 s (signal SIGKILL): a blocking open would block this process too.
    const result = await spawnCliProcess(['info', fifo, '--json'], tmp.dir, { timeoutMs: 15_000 });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${fifo} is a named pipe (FIFO), not a project file. Choose a .mocoop file.`);
  });

  it.each([
    ['socket', () => socketPath, 'a socket'],
    ['character device', () => '/dev/null', 'a character device'],
    [
      'link to a FIFO',
      () => {
        const link = path.join(tmp.dir, 'link.mocoop');
        if (!fs.existsSync(link)) fs.symlinkSync(fifo, link);
        return link;
      },
      'a named pipe (FIFO)'
    ]
  ])('ProjectStore.open refuses a %s', (_what, file, kind) => {
    const error = (() => {
      try {
        ProjectStore.open(file());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toContain(`is ${kind}, not a project file`);
  });

  it('a FIFO inside an imported folder, or given as a file, is listed as skipped; a FIFO as the CSV is refused', async () => {
    const folder = path.join(tmp.dir, 'images');
    await makeImage(path.join(folder, 'cat', 'a.jpg'), 1);
    execFileSync('mkfifo', [path.join(folder, 'cat', 'b.jpg')]);
    execFileSync('mkfifo', [path.join(folder, 'cat', 'notes')]);
    const store = ProjectStore.create(path.join(tmp.dir, 'fifo-import.mocoop'));
    try {
      const summary = await runImport(store, { kind: 'folder', dir: folder }, { importId: 'folder' });
      expect(summary.imported).toBe(1);
      expect(summary.skipped).toEqual([
        { path: path.join(folder, 'cat', 'b.jpg'), reason: 'is a named pipe (FIFO), not an image file' },
        { path: path.join(folder, 'cat', 'notes'), reason: 'is a named pipe (FIFO), not an image file' }
      ]);
      const loose = await runImport(store, { kind: 'paths', paths: [path.join(folder, 'cat', 'b.jpg')] }, { importId: 'paths' });
      expect(loose.skipped).toEqual([{ path: path.join(folder, 'cat', 'b.jpg'), reason: 'is a named pipe (FIFO), not an image file' }]);
      const csvFifo = path.join(tmp.dir, 'labels.csv');
      execFileSync('mkfifo', [csvFifo]);
      await expect(runImport(store, { kind: 'csv', file: csvFifo }, { importId: 'csv' })).rejects.toThrow(
        `CSV file ${csvFifo} is a named pipe (FIFO), not a file.`
      );
    } finally {
      store.close();
    }
  });

  it('probeImage refuses a socket and a device without reading them', async () => {
    expect(await probeImage(socketPath)).toEqual({ ok: false, reason: 'is a socket, not an image file' });
    expect(await probeImage('/dev/zero')).toEqual({ ok: false, reason: 'is a character device, not an image file' });
  });
});
