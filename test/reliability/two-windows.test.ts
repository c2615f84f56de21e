import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLIENT_HEADER, startWebServer } from '../../src-main/transport/web-server';
import { dispatch } from '../../src-main/contract/dispatch';
import { AppServices } from '../../src-main/services/app-services';
import { PhaseEta } from '../../src-main/services/eta';
import { ProjectStore, type NewImage } from '../../src-main/store/project-store';
import { findMeasurement, saveMeasurement } from '../../src-main/store/template-measurements';
import { TrainingStore } from '../../src-main/store/training-store';
import { tempDir } from '../helpers/temp';

/**
 * Several windows (browser tabs, or the app and the CLI) on one project: a save against a stale
 * revision is refused in words with nothing written, an overwrite with the new revision goes through,
 * every window hears what changed (and who changed it), and undo is per window.
 */

function fakeImage(n: number, label: string | null): NewImage {
  return {
    path: `/data/pets/${label ?? 'inbox'}/${n}.jpg`,
    hash: `hash-${n}`,
    width: 32,
    height: 32,
    bytes: 100 + n,
    label,
    split: 'train',
    source: 'test',
    thumbnail: { mime: 'image/jpeg', data: Buffer.from([n]) }
  };
}

type Envelope = Awaited<ReturnType<typeof dispatch>>;

let tmp: ReturnType<typeof tempDir>;
let app: AppServices;
let events: { name: string; payload: any }[];

/** A request as window `clientId` sends it (web mode: its header; Electron: its webContents). */
const send = (clientId: string | null, name: string, input?: unknown): Promise<Envelope> =>
  dispatch(app.handlers(), name, input, () => {}, undefined, { clientId });
const call = async (clientId: string | null, name: string, input?: unknown): Promise<any> => {
  const envelope = await send(clientId, name, input);
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
};
const refusal = async (clientId: string | null, name: string, input?: unknown) => {
  const envelope = await send(clientId, name, input);
  if (envelope.ok) throw new Error(`${name} was expected to be refused`);
  return envelope.error;
};
const A = 'tab-a';
const B = 'tab-b';

beforeEach(async () => {
  tmp = tempDir('mocoop-windows-');
  app = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 'test' });
  await call(null, 'project.create', { path: path.join(tmp.dir, 'pets.mocoop') });
  const images: NewImage[] = [];
  for (let n = 1; n <= 12; n++) images.push(fakeImage(n, n <= 4 ? 'cat' : n <= 8 ? 'dog' : null));
  app.project.insertImages(images, []);
  events = [];
  app.events.subscribe((name, payload) => events.push({ name, payload }));
});
afterEach(() => {
  app.dispose();
  tmp.cleanup();
});

const groupsOf = async () =>
  (await call(null, 'templates.groups')).map((g: { name: string; templates: string[] }) => ({ name: g.name, templates: g.templates }));

describe('template groups saved from two windows', () => {
  it('a save against a stale revision is refused with the message and writes nothing; overwriting with the new revision works', async () => {
    const start = (await call(A, 'project.revisions')).templates;
    expect((await call(B, 'project.revisions')).templates).toBe(start);

    await call(B, 'templates.setGroups', { groups: [{ name: 'B', templates: ['a photo of a {}.'] }], expectedRevision: start });
    const afterB = (await call(B, 'project.revisions')).templates;
    expect(afterB).toBeGreaterThan(start);
    expect(events).toContainEqual({ name: 'project.changed', payload: { reason: 'templates', origin: B } });

    // Tab A still holds the revision it loaded: its save would wipe B's, so it is refused.
    const error = await refusal(A, 'templates.setGroups', { groups: [{ name: 'A', templates: ['a drawing of a {}.'] }], expectedRevision: start });
    expect(error.code).toBe('stale_revision');
    expect(error.message).toContain('The template groups changed in another window — reload or overwrite.');
    expect(await groupsOf()).toEqual([{ name: 'B', templates: ['a photo of a {}.'] }]);
    expect((await call(A, 'project.revisions')).templates).toBe(afterB);

    // Overwrite: the same save with the revision now current.
    await call(A, 'templates.setGroups', { groups: [{ name: 'A', templates: ['a drawing of a {}.'] }], expectedRevision: afterB });
    expect(await groupsOf()).toEqual([{ name: 'A', templates: ['a drawing of a {}.'] }]);
    expect((await call(A, 'project.revisions')).templates).toBeGreaterThan(afterB);
  });

  it('a save without a revision (the CLI, older callers) still goes through, and moves the revision', async () => {
    const before = (await call(null, 'project.revisions')).templates;
    await call(null, 'templates.setGroups', { groups: [{ name: 'G', templates: ['a photo of a {}.'] }] });
    expect((await call(null, 'project.revisions')).templates).toBeGreaterThan(before);
  });

  it("a change written by another process (a second connection, as the CLI has) makes the window's revision stale too", async () => {
    const start = (await call(A, 'project.revisions')).templates;
    const other = ProjectStore.open(app.project.file);
    try {
      new TrainingStore(other).replaceTemplateGroups([{ name: 'CLI', templates: ['itap of a {}.'] }]);
    } finally {
      other.close();
    }
    const error = await refusal(A, 'templates.setGroups', { groups: [{ name: 'A', templates: ['a photo of a {}.'] }], expectedRevision: start });
    expect(error.code).toBe('stale_revision');
    expect(await groupsOf()).toEqual([{ name: 'CLI', templates: ['itap of a {}.'] }]);
  });
});

describe('few-shot sets, classes and settings from two windows', () => {
  it("a set edited in another window refuses the stale edit and delete; the set list carries each set's revision", async () => {
    const set = await call(A, 'fewshot.create', { k: 2, seed: 1, baseNew: false });
    expect(set.revision).toBeGreaterThan(0);
    expect((await call(B, 'fewshot.list'))[0].revision).toBe(set.revision);
    const renamed = (await call(B, 'fewshot.update', { setId: set.id, name: 'renamed by B', expectedRevision: set.revision })).set;
    expect(renamed.revision).toBeGreaterThan(set.revision);

    const error = await refusal(A, 'fewshot.update', { setId: set.id, name: 'renamed by A', expectedRevision: set.revision });
    expect(error.code).toBe('stale_revision');
    expect(error.message).toContain('The few-shot set "renamed by B" changed in another window — reload or overwrite.');
    expect((await refusal(A, 'fewshot.delete', { setId: set.id, expectedRevision: set.revision })).code).toBe('stale_revision');
    expect((await call(A, 'fewshot.list')).map((s: { name: string }) => s.name)).toEqual(['renamed by B']);

    const overwritten = (await call(A, 'fewshot.update', { setId: set.id, name: 'renamed by A', expectedRevision: renamed.revision })).set;
    expect(overwritten.name).toBe('renamed by A');
    await call(A, 'fewshot.delete', { setId: set.id, expectedRevision: overwritten.revision });
    // Deleted in one window: the other's edit says so (not "changed").
    const gone = await refusal(B, 'fewshot.update', { setId: set.id, name: 'x', expectedRevision: overwritten.revision });
    expect(gone.code).toBe('not_found');
    expect(gone.message).toContain('no longer exists');
  });

  it('class edits against a stale class list are refused and write nothing; the change event names the origin', async () => {
    const rev = (await call(A, 'project.revisions')).classes;
    const [cat, dog] = await call(A, 'classes.list');
    await call(B, 'classes.rename', { id: cat.id, name: 'kitten', expectedRevision: rev });
    expect(events.at(-1)).toEqual({ name: 'project.changed', payload: { reason: 'classes', origin: B } });

    for (const [name, input] of [
      ['classes.rename', { id: cat.id, name: 'feline', expectedRevision: rev }],
      ['classes.merge', { sourceIds: [dog.id], targetId: cat.id, expectedRevision: rev }],
      ['classes.delete', { id: dog.id, expectedRevision: rev }],
      ['classes.reorder', { ids: [dog.id, cat.id], expectedRevision: rev }]
    ] as const) {
      const error = await refusal(A, name, input);
      expect(error.code, name).toBe('stale_revision');
      expect(error.message).toContain('The classes changed in another window — reload or overwrite.');
    }
    expect((await call(A, 'classes.list')).map((c: { name: string; imageCount: number }) => [c.name, c.imageCount])).toEqual([
      ['kitten', 4],
      ['dog', 4]
    ]);
    const now = (await call(A, 'project.revisions')).classes;
    await call(A, 'classes.reorder', { ids: [dog.id, cat.id], expectedRevision: now });
    expect((await call(A, 'classes.list')).map((c: { name: string }) => c.name)).toEqual(['dog', 'kitten']);
  });

  it('a project rename against a stale revision is refused; without one it goes through', async () => {
    const rev = (await call(A, 'project.revisions')).settings;
    await call(B, 'project.rename', { name: 'Pets (B)', expectedRevision: rev });
    const error = await refusal(A, 'project.rename', { name: 'Pets (A)', expectedRevision: rev });
    expect(error.code).toBe('stale_revision');
    expect(error.message).toContain("The project's settings changed in another window");
    expect(app.project.name).toBe('Pets (B)');
    await call(null, 'project.rename', { name: 'Pets' });
    expect(app.project.name).toBe('Pets');
  });
});

describe('undo is per window', () => {
  it("tab A's undo never undoes tab B's labeling, and each tab's history is its own", async () => {
    const [cat, dog] = await call(null, 'classes.list');
    const unlabeled: number[] = (await call(null, 'images.ids', { filter: { unlabeled: true } })).ids;
    const [one, two] = unlabeled as [number, number];
    expect(await call(A, 'labels.assign', { imageIds: [one], classId: cat.id })).toEqual({ canUndo: true, canRedo: false });
    expect(await call(B, 'labels.history')).toEqual({ canUndo: false, canRedo: false });
    await call(B, 'labels.assign', { imageIds: [two], classId: dog.id });
    expect(events.filter((e) => e.name === 'project.changed').at(-1)!.payload).toEqual({ reason: 'labels', origin: B, imageIds: [two] });

    const step = await call(A, 'labels.undo');
    expect(step.changedImageIds).toEqual([one]);
    const labelOf = async (id: number) => (await call(null, 'images.get', { ids: [id] }))[0].labelId;
    expect(await labelOf(one)).toBeNull();
    expect(await labelOf(two)).toBe(dog.id);
    // A has nothing left to undo; B's step is still B's to undo.
    expect((await call(A, 'labels.undo')).description).toBe('Nothing to undo');
    expect(await labelOf(two)).toBe(dog.id);
    expect(await call(B, 'labels.history')).toEqual({ canUndo: true, canRedo: false });
    await call(B, 'labels.undo');
    expect(await labelOf(two)).toBeNull();
    // A's redo is still there after B's steps.
    await call(A, 'labels.redo');
    expect(await labelOf(one)).toBe(cat.id);
  });

  it("a new step clears only that tab's redo, and an image another tab changed since keeps that tab's label", async () => {
    const [cat, dog] = await call(null, 'classes.list');
    const [one, two] = (await call(null, 'images.ids', { filter: { unlabeled: true } })).ids as number[];
    await call(A, 'labels.assign', { imageIds: [one, two], classId: cat.id });
    await call(B, 'labels.assign', { imageIds: [two], classId: dog.id });
    const step = await call(A, 'labels.undo');
    expect(step.changedImageIds).toEqual([one]);
    expect(step.description).toContain('1 image changed since in another window');
    const labels = (await call(null, 'images.get', { ids: [one, two] })).map((r: { labelId: number | null }) => r.labelId);
    expect(labels).toEqual([null, dog.id]);

    await call(B, 'labels.undo');
    expect(await call(B, 'labels.history')).toEqual({ canUndo: false, canRedo: true });
    await call(A, 'labels.setSplit', { imageIds: [one], split: 'test' });
    // A's new step dropped A's redo, not B's.
    expect(await call(A, 'labels.history')).toEqual({ canUndo: true, canRedo: false });
    expect(await call(B, 'labels.history')).toEqual({ canUndo: false, canRedo: true });
  });

  it('callers without a window (the CLI) keep one shared history, as before', async () => {
    const [cat] = await call(null, 'classes.list');
    const [one] = (await call(null, 'images.ids', { filter: { unlabeled: true } })).ids as number[];
    await call(null, 'labels.assign', { imageIds: [one], classId: cat.id });
    expect(await call(A, 'labels.history')).toEqual({ canUndo: false, canRedo: false });
    expect(await call(null, 'labels.history')).toEqual({ canUndo: true, canRedo: false });
    expect((await call(null, 'labels.undo')).changedImageIds).toEqual([one]);
  });
});

describe('over web mode', () => {
  it('each tab is told apart by its client header: its own undo, and change events naming it pushed to every tab', async () => {
    const staticDir = path.join(tmp.dir, 'static');
    fs.mkdirSync(staticDir, { recursive: true });
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
    const server = await startWebServer({ services: app, staticDir, port: 0, log: () => {} });
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}${server.basePath}events?token=${server.token}`, { headers: { Origin: server.origin } });
    const pushed: { event: string; payload: any }[] = [];
    socket.on('message', (data) => pushed.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const post = async (client: string | null, name: string, input?: unknown) => {
      const response = await fetch(`${server.origin}${server.basePath}api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}`, ...(client ? { [CLIENT_HEADER]: client } : {}) },
        body: input === undefined ? '' : JSON.stringify(input)
      });
      const envelope = (await response.json()) as { ok: boolean; value?: any; error?: { code: string } };
      if (!envelope.ok) throw new Error(envelope.error!.code);
      return envelope.value;
    };
    try {
      const [cat] = await call(null, 'classes.list');
      const [one] = (await call(null, 'images.ids', { filter: { unlabeled: true } })).ids as number[];
      await post('tab-1', 'labels.assign', { imageIds: [one], classId: cat.id });
      expect(await post('tab-2', 'labels.history')).toEqual({ canUndo: false, canRedo: false });
      expect((await post('tab-2', 'labels.undo')).description).toBe('Nothing to undo');
      expect(await post('tab-1', 'labels.history')).toEqual({ canUndo: true, canRedo: false });
      // A header that is not a client id is no id at all (the shared, unnamed history).
      expect(await post('../tab-1', 'labels.history')).toEqual({ canUndo: false, canRedo: false });
      await expect.poll(() => pushed.find((m) => m.event === 'project.changed')?.payload).toEqual({ reason: 'labels', origin: 'tab-1', imageIds: [one] });
    } finally {
      socket.close();
      await server.close();
    }
  });
});

describe('template measurements', () => {
  it('are kept per model and templates (trimmed), and found again', () => {
    const result = { images: 10, groups: [{ accuracy: 0.5, gateShare: 1, templates: [{ template: 'a photo of a {}.', accuracy: 0.5 }] }] };
    expect(findMeasurement(app.project.db, [['a photo of a {}.']])).toBeNull();
    const saved = saveMeasurement(app.project.db, 'model-x', [['a photo of a {}.']], result, 12.5);
    expect(findMeasurement(app.project.db, [[' a photo of a {}. ']], 'model-x')).toEqual(saved);
    expect(findMeasurement(app.project.db, [['a photo of a {}.']])).toMatchObject({ modelId: 'model-x', seconds: 12.5, images: 10 });
    expect(findMeasurement(app.project.db, [['a photo of a {}.']], 'model-y')).toBeNull();
    expect(findMeasurement(app.project.db, [['a photo of a {}.', 'itap of a {}.']])).toBeNull();
  });

  it('the ETA waits for a second of measured pace, then extrapolates it', () => {
    let now = 0;
    const eta = new PhaseEta(() => now);
    expect(eta.update(0, 100)).toBeNull();
    now = 5000; // model loading before the first batch is not pace
    expect(eta.update(10, 100)).toBeNull();
    now = 5500;
    expect(eta.update(20, 100)).toBeNull();
    now = 7000;
    // Pace from the first finished batch (10 at 5 s): 30 images in 2 s.
    expect(eta.update(40, 100)).toBeCloseTo(((100 - 40) * 2000) / 30 / 1000, 6);
    now = 9000;
    expect(eta.update(100, 100)).toBe(0);
  });
});
