import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../src-main/contract/dispatch';
import { AppError } from '../../src-main/contract/errors';
import { ClipTokenizer } from '../../src-main/clip/tokenizer';
import { AppServices } from '../../src-main/services/app-services';
import { ProjectStore } from '../../src-main/store/project-store';
import { startWebServer } from '../../src-main/transport/web-server';
import { runCli } from '../helpers/cli';
import { makeImage } from '../helpers/images';
import { useTempDir } from '../helpers/suite';
import { TINY_CLIP } from '../helpers/fixtures';

const FIXTURE = TINY_CLIP;
const UNCLEAR = /unexpected error|Something went wrong|Maximum call stack/;

/** A copy of the tiny CLIP folder whose vocab.json `edit` changes. */
function modelWithVocab(dir: string, edit: (vocab: Record<string, number>) => void): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(FIXTURE)) if (fs.statSync(path.join(FIXTURE, f)).isFile()) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  const vocab = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'vocab.json'), 'utf8'));
  edit(vocab);
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
  return dir;
}

/** Makes a file or folder unwritable even for root (chattr +i), else by permissions; null when neither works here. */
function makeReadOnly(target: string): (() => void) | null {
  try {
    execFileSync('chattr', ['+i', target], { stdio: 'ignore' });
    return () => execFileSync('chattr', ['-i', target], { stdio: 'ignore' });
  } catch {
    if (process.getuid?.() === 0) return null;
    const mode = fs.statSync(target).mode;
    fs.chmodSync(target, fs.statSync(target).isDirectory() ? 0o555 : 0o444);
    return () => fs.chmodSync(target, mode);
  }
}

/** Every message of the list is a sentence naming the file or field and what to do. */
describe('messages instead of "unexpected error"', () => {
  const tmp = useTempDir();

  it('a vocab id beyond the model vocab_size names vocab.json, the token and the limit (CLI too)', async () => {
    const dir = modelWithVocab(path.join(tmp.dir, 'big-id'), (vocab) => {
      vocab['photo</w>'] = 60_000;
    });
    expect(() => ClipTokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'))).toThrow(
      `${path.join(dir, 'vocab.json')}: the id of "photo</w>" is 60000, beyond the model's vocabulary of 49408 tokens (config.json text_config.vocab_size).`
    );
    const result = await runCli(['tokenize', '--model', dir, '--json', 'a photo'], tmp.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is 60000, beyond the model's vocabulary of 49408 tokens");
    expect(result.stderr).not.toMatch(UNCLEAR);
  });

  it('a merge whose symbol the vocabulary lacks names merges.txt and its line; at tokenize time the word', () => {
    const dir = modelWithVocab(path.join(tmp.dir, 'no-symbol'), (vocab) => {
      delete vocab['photo</w>'];
    });
    const merges = fs.readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n');
    const line = merges.findIndex((m) => m.replace(' ', '') === 'photo</w>') + 1;
    expect(() => ClipTokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'))).toThrow(
      new RegExp(`merges\\.txt: line ${line} merges "[^"]+" into "photo</w>", which .*vocab\\.json does not have\\. The two files do not belong together`)
    );
    const small = new ClipTokenizer({ a: 0, 'a</w>': 1, '<|startoftext|>': 2, '<|endoftext|>': 3 }, ['a a</w>']);
    expect(() => small.encode('aa')).toThrow(
      /BPE symbol "aa<\/w>" is not in the vocabulary \(vocab\.json\), so the word "aa" cannot be tokenized\. .*use both files of the same CLIP model/
    );
  });

  it('a split JSON nested 200,000 levels deep is listed as skipped (it overflowed the stack)', async () => {
    const root = path.join(tmp.dir, 'deep-root');
    await makeImage(path.join(root, 'a.jpg'), 3);
    const split = path.join(tmp.dir, 'deep.json');
    const depth = 200_000;
    fs.writeFileSync(split, `{"train": [["a.jpg", 0, "cat"], ${'['.repeat(depth)}${']'.repeat(depth)}, ${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]}`);
    const project = path.join(tmp.dir, 'deep.mocoop');
    expect((await runCli(['project', 'create', project], tmp.dir)).code).toBe(0);
    const result = await runCli(['import', project, '--coop-split', split, '--image-root', root, '--json'], tmp.dir);
    expect(result.stderr).not.toMatch(UNCLEAR);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.imported).toBe(1);
    expect(summary.skipped).toEqual([
      { path: `${split} train[1]`, reason: 'expected [relative path, integer label, class name], found [[[[[…]]]]]' },
      { path: `${split} train[2]`, reason: 'expected [relative path, integer label, class name], found {"a": {"a": {"a": {"a": {…}}}}}' }
    ]);
  });

  it('a read-only or immutable project, and a project in a read-only folder, are refused in words', async () => {
    const folder = path.join(tmp.dir, 'ro');
    fs.mkdirSync(folder);
    const file = path.join(folder, 'ro.mocoop');
    ProjectStore.create(file).close();
    const undoFile = makeReadOnly(file);
    if (!undoFile) return; // neither chattr nor permissions can make it read-only here
    try {
      expect(() => ProjectStore.open(file)).toThrow(new RegExp(`^The project file ${file} cannot be written: .*make it and its folder writable`));
      const result = await runCli(['info', file], tmp.dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`mocoop: The project file ${file} cannot be written:`);
    } finally {
      undoFile();
    }
    const undoDir = makeReadOnly(folder);
    if (!undoDir) return;
    try {
      expect(() => ProjectStore.open(file)).toThrow(`its folder ${folder} cannot be written`);
      expect(() => ProjectStore.create(path.join(folder, 'new.mocoop'))).toThrow(`A project cannot be created in ${folder}:`);
    } finally {
      undoDir();
    }
    const reopened = ProjectStore.open(file);
    expect(reopened.file).toBe(file);
    reopened.close();
  });

  it('a full disk is said in words and nothing is written (SQLite full, through a transport)', async () => {
    const services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config-full'), version: 't' });
    try {
      services.createProject(path.join(tmp.dir, 'full.mocoop'));
      const images = path.join(tmp.dir, 'full-images');
      for (let i = 0; i < 6; i++) await makeImage(path.join(images, 'cat', `${i}.jpg`), 40 + i, { width: 200, height: 200 });
      const store = services.openProject!;
      const pages = store.db.pragma('page_count', { simple: true }) as number;
      store.db.pragma(`max_page_count = ${pages + 1}`);
      const reply = await dispatch(
        services.handlers(),
        'import.run',
        { importId: 'full', source: { kind: 'folder', dir: images } },
        () => {},
        () => store.file
      );
      expect(reply).toEqual({
        ok: false,
        error: { code: 'unavailable', message: `The disk holding ${store.file} is full; nothing was changed. Free some space and try again.` }
      });
      store.db.pragma('max_page_count = 1073741823');
      expect(services.info().project.imageCount).toBe(0);
    } finally {
      services.dispose();
    }
  });

  it('a port in use is named with what to do (web server and CLI serve)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config-port'), version: 't' });
    try {
      const error = await startWebServer({ services, staticDir: tmp.dir, port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).message).toBe(
        `Port ${port} on 127.0.0.1 is already in use by another program (perhaps another MoCoOp Workbench). Choose another port with --port N, or --port 0 for any free one.`
      );
      const result = await runCli(['serve', '--port', String(port)], tmp.dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`mocoop: Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      services.dispose();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('an upload named "." or ".." is refused by name, writing nothing', async () => {
    const services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config-upload'), version: 't' });
    try {
      services.createProject(path.join(tmp.dir, 'upload.mocoop'));
      const data = fs.readFileSync(await makeImage(path.join(tmp.dir, 'up.jpg'), 9)).toString('base64');
      for (const name of ['..', '.', 'folder/..', ' . ']) {
        const reply = await dispatch(
          services.handlers(),
          'import.upload',
          {
            importId: `u-${name}`,
            files: [
              { name: 'ok.jpg', dataBase64: data },
              { name, dataBase64: data }
            ]
          },
          () => {}
        );
        expect(reply).toEqual({
          ok: false,
          error: {
            code: 'invalid_input',
            message: `An uploaded file is named "${name}", which cannot be the name of an image file; nothing was imported. Rename it (for example to photo.jpg) and add it again.`
          }
        });
      }
      expect(services.info().project.imageCount).toBe(0);
    } finally {
      services.dispose();
    }
  });

  it('an unknown CLI option without a value is called unknown, not "needs a value"', async () => {
    const project = path.join(tmp.dir, 'flags.mocoop');
    expect((await runCli(['project', 'create', project], tmp.dir)).code).toBe(0);
    const unknown = await runCli(['info', project, '--no-such-flag'], tmp.dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('mocoop: Unknown option --no-such-flag. Options here: --json, --debug.\n');
    const noValue = await runCli(['import', project, '--folder'], tmp.dir);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toBe('mocoop: --folder needs a value.\n');
    const noFiles = await runCli(['import', project, '--files'], tmp.dir);
    expect(noFiles.stderr).toBe('mocoop: --files needs a value (a file or folder).\n');
  });
});
