import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ImportHoldOut, ImportSource, ImportSummary, ProjectInfo, ProjectSummary } from '../contract';
import type { Handlers } from '../contract/dispatch';
import { AppError } from '../contract/errors';
import { hashFile } from '../importing/image-probe';
import { runImport } from '../importing/importer';
import { listImageFiles } from '../importing/walk';
import { ProjectStore } from '../store/project-store';
import { ClipServices } from './clip-services';
import { TrainServices } from './train-services';
import { LabelServices } from './label-services';
import { PredictionServices } from './image-predictions';
import { EventBus } from './events';
import { defaultProjectDir } from './paths';
import { RecentProjects } from './recent-projects';
import { listFolder, zipFolder } from './file-browser';
import { labelExportToHandlers } from './label-export-to';
import { checkOutputFolder } from './output-folder';
import { currentClientId } from '../contract/request-context';
import { allRevisions, guardedWrite } from '../store/revisions';

export interface ServiceOptions {
  mode: 'electron' | 'web';
  configDir: string;
  version: string;
  /** Native file dialogs exist only in Electron; web mode asks for a typed server-side path instead. */
  pickPath?: (kind: 'folder' | 'file' | 'save', title?: string) => Promise<string | null>;
}

export const PROJECT_EXTENSION = '.mocoop';

/** Where files dropped into the browser (web mode) are kept: beside the project, since images are referenced, not copied into it. */
export function uploadsDir(projectFile: string): string {
  return projectFile.replace(/\.mocoop$/i, '') + '.files';
}

/** The services behind the contract: one open project at a time, shared by every transport and the CLI. */
export class AppServices {
  readonly events = new EventBus();
  private store: ProjectStore | null = null;
  private readonly recent: RecentProjects;
  private readonly imports = new Map<string, AbortController>();
  readonly clip: ClipServices;
  readonly train: TrainServices;
  readonly labels: LabelServices;
  readonly predictions: PredictionServices;

  constructor(readonly options: ServiceOptions) {
    this.recent = new RecentProjects(options.configDir);
    this.clip = new ClipServices(options.configDir, this.events, () => this.project);
    this.train = new TrainServices(this.clip, this.events, () => this.project, options.version);
    this.labels = new LabelServices(() => this.project, this.events);
    this.predictions = new PredictionServices(() => this.project, this.clip);
  }

  dispose(): void {
    this.train.dispose();
    this.closeProject();
    this.clip.dispose();
  }

  get project(): ProjectStore {
    if (!this.store) throw new AppError('no_project', 'No project is open. Create or open a project first.');
    return this.store;
  }

  get openProject(): ProjectStore | null {
    return this.store;
  }

  /** Where a new project would be written, and whether its folder must be created (with a yes first unless it is the default projects folder). */
  checkProjectLocation(file: string): { file: string; folder: string; folderExists: boolean; fileExists: boolean; confirmFolder: boolean } {
    let abs = path.resolve(file);
    if (!abs.toLowerCase().endsWith(PROJECT_EXTENSION)) abs += PROJECT_EXTENSION;
    const folder = path.dirname(abs);
    // existsSync/statSync: a path under a file (ENOTDIR) simply does not exist here; createProject says why.
    const folderExists = fs.existsSync(folder) && fs.statSync(folder).isDirectory();
    return { file: abs, folder, folderExists, fileExists: fs.existsSync(abs), confirmFolder: !folderExists && folder !== defaultProjectDir() };
  }

  /**
   * Creates a project file. A folder that does not exist is created only with `createFolder` (the app
   * asks first; the CLI creates it as it always did), or when it is the default projects folder.
   */
  createProject(file: string, name?: string, options: { createFolder?: boolean } = {}): ProjectSummary {
    const { file: abs, folder, folderExists, confirmFolder } = this.checkProjectLocation(file);
    if (!folderExists) {
      if (confirmFolder && !options.createFolder) {
        throw new AppError(
          'not_found',
          `The folder ${folder} does not exist; no project was created. Choose an existing folder, or confirm that ${folder} should be created.`
        );
      }
      fs.mkdirSync(checkOutputFolder(folder, 'the project'), { recursive: true });
    }
    const store = ProjectStore.create(abs, name);
    return this.adopt(store);
  }

  openProjectFile(file: string): ProjectSummary {
    const abs = path.resolve(file);
    if (this.store?.file === abs) return this.store.summary();
    const store = ProjectStore.open(abs);
    const summary = this.adopt(store);
    void this.checkMissing().catch(() => {});
    return summary;
  }

  private adopt(store: ProjectStore): ProjectSummary {
    this.closeProject();
    this.store = store;
    this.recent.touch(store.file, store.name);
    return store.summary();
  }

  closeProject(): void {
    for (const controller of this.imports.values()) controller.abort();
    this.imports.clear();
    this.store?.close();
    this.store = null;
  }

  info(): ProjectInfo {
    const store = this.project;
    const missing = store
      .allImagePaths()
      .filter((i) => i.missing)
      .map((i) => ({ kind: 'missing' as const, path: i.path, reason: 'file not found at its imported path; relink it from the folder it moved to' }));
    const skipped = store.recentSkips().map((s) => ({ kind: 'skipped' as const, ...s }));
    const project = store.summary();
    return { project, classes: store.listClasses(), unlabeledCount: project.imageCount - project.labeledCount, problems: [...missing, ...skipped] };
  }

  async importSource(importId: string, source: ImportSource, holdOut?: ImportHoldOut): Promise<ImportSummary> {
    const store = this.project;
    if (this.imports.size > 0) throw new AppError('busy', 'Another import is running. Wait for it to finish or cancel it first.');
    const controller = new AbortController();
    this.imports.set(importId, controller);
    try {
      const summary = await runImport(store, source, {
        importId,
        signal: controller.signal,
        holdOut,
        onProgress: (progress) => this.events.emit('import.progress', progress)
      });
      if (summary.imported > 0) this.events.emit('project.changed', { reason: 'import' });
      return summary;
    } finally {
      this.imports.delete(importId);
    }
  }

  cancelImport(importId: string): boolean {
    const controller = this.imports.get(importId);
    controller?.abort();
    return controller !== undefined;
  }

  /** Web-mode drag and drop: the browser sends file contents, which are kept beside the project and then imported by path. */
  async importUploaded(importId: string, files: { name: string; dataBase64: string }[], holdOut?: ImportHoldOut): Promise<ImportSummary> {
    // A name that is only dots ("." / "..") would be the uploads folder or its parent, not a file.
    const unusable = files.find((file) => /^[.\s]*$/.test(path.basename(file.name.replace(/\\/g, '/'))));
    if (unusable) {
      throw new AppError(
        'invalid_input',
        `An uploaded file is named "${unusable.name}", which cannot be the name of an image file; nothing was imported. Rename it (for example to photo.jpg) and add it again.`
      );
    }
    const dir = uploadsDir(this.project.file);
    await fsp.mkdir(dir, { recursive: true });
    const paths: string[] = [];
    for (const file of files) {
      const safeName = path.basename(file.name.replace(/\\/g, '/')).replace(/[\0<>:"|?*]/g, '_') || 'image';
      const data = Buffer.from(file.dataBase64, 'base64');
      let target = path.join(dir, safeName);
      for (let n = 1; fs.existsSync(target); n++) {
        if ((await fsp.readFile(target)).equals(data)) break;
        const ext = path.extname(safeName);
        target = path.join(dir, `${path.basename(safeName, ext)} (${n})${ext}`);
      }
      if (!fs.existsSync(target)) await fsp.writeFile(target, data, { flag: 'wx' });
      paths.push(target);
    }
    return this.importSource(importId, { kind: 'paths', paths }, holdOut);
  }

  async checkMissing(): Promise<{ checked: number; missing: number }> {
    const store = this.project;
    const images = store.allImagePaths();
    const updates: { id: number; missing: boolean }[] = [];
    let missing = 0;
    const BATCH = 64;
    for (let i = 0; i < images.length; i += BATCH) {
      const results = await Promise.all(
        images.slice(i, i + BATCH).map((img) =>
          fsp.stat(img.path).then(
            (s) => s.isFile(),
            () => false
          )
        )
      );
      results.forEach((exists, k) => {
        const img = images[i + k]!;
        if (!exists) missing++;
        if (img.missing === exists) updates.push({ id: img.id, missing: !exists });
      });
    }
    if (this.store !== store) return { checked: images.length, missing };
    if (updates.length) {
      store.setMissing(updates);
      this.events.emit('project.changed', { reason: 'missing-files' });
    }
    return { checked: images.length, missing };
  }

  /** Finds moved files under `dir` by content hash (files of the right size only are hashed). */
  async relink(dir: string): Promise<{ relinked: number; stillMissing: number }> {
    const store = this.project;
    await this.checkMissing();
    const missing = store.allImagePaths().filter((i) => i.missing);
    const bySize = new Map<number, Map<string, number>>();
    for (const img of missing) {
      if (!bySize.has(img.bytes)) bySize.set(img.bytes, new Map());
      bySize.get(img.bytes)!.set(img.hash, img.id);
    }
    const abs = path.resolve(dir);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory())
      throw new AppError('bad_source', `${abs} is not a folder. Choose the folder the images were moved to.`);
    const updates: { id: number; path: string }[] = [];
    for (const file of await listImageFiles(abs, [])) {
      const size = (await fsp.stat(file)).size;
      const candidates = bySize.get(size);
      if (!candidates) continue;
      const hash = await hashFile(file);
      const id = candidates.get(hash);
      if (id === undefined) continue;
      updates.push({ id, path: file });
      candidates.delete(hash);
    }
    store.relink(updates);
    if (updates.length) this.events.emit('project.changed', { reason: 'relink' });
    return { relinked: updates.length, stillMissing: missing.length - updates.length };
  }

  handlers(): Handlers {
    const changed = <T>(reason: string, value: T): T => {
      this.events.emit('project.changed', { reason });
      return value;
    };
    /** Labels or splits changed: other windows refresh those images (at most a few thousand ids are named). */
    const labelsChanged = <T>(value: T, imageIds: number[]): T => {
      this.events.emit('project.changed', { reason: 'labels', ...(imageIds.length <= 5000 ? { imageIds } : {}) });
      return value;
    };
    return {
      'app.info': () => ({ version: this.options.version, mode: this.options.mode, platform: process.platform, defaultProjectDir: defaultProjectDir() }),
      'app.pickPath': async ({ kind, title }) => ({ path: this.options.pickPath ? await this.options.pickPath(kind, title) : null }),

      'project.create': ({ path: file, name, createFolder }) => this.createProject(file, name, { createFolder }),
      'project.checkLocation': ({ path: file }) => this.checkProjectLocation(file),
      'project.open': ({ path: file }) => this.openProjectFile(file),
      'project.current': () => this.store?.summary() ?? null,
      'project.info': () => this.info(),
      'project.rename': ({ name, expectedRevision }) => {
        guardedWrite(this.project.db, 'settings', expectedRevision, () => this.project.rename(name));
        this.recent.touch(this.project.file, name);
        return changed('settings', this.project.summary());
      },
      'project.revisions': () => allRevisions(this.project.db),
      'project.close': () => {
        this.closeProject();
        return null;
      },
      'project.recent': () => this.recent.list(),
      'project.forgetRecent': ({ path: file }) => this.recent.forget(file),

      'classes.list': () => this.project.listClasses(),
      'classes.create': ({ name }) => changed('classes', this.project.createClass(name)),
      // A class edit that names the revision it started from is refused when another window changed the classes since.
      'classes.rename': ({ id, name, expectedRevision }) =>
        changed(
          'classes',
          guardedWrite(this.project.db, 'classes', expectedRevision, () => this.project.renameClass(id, name))
        ),
      'classes.merge': ({ sourceIds, targetId, expectedRevision }) =>
        changed('classes', { moved: guardedWrite(this.project.db, 'classes', expectedRevision, () => this.project.mergeClasses(sourceIds, targetId)) }),
      'classes.delete': ({ id, expectedRevision }) =>
        changed('classes', { unlabeled: guardedWrite(this.project.db, 'classes', expectedRevision, () => this.project.deleteClass(id)) }),
      'classes.reorder': ({ ids, expectedRevision }) =>
        changed(
          'classes',
          guardedWrite(this.project.db, 'classes', expectedRevision, () => this.project.reorderClasses(ids))
        ),

      'images.ids': ({ filter }) => ({ ids: this.project.imageIds(filter) }),
      'images.get': ({ ids }) => this.project.images(ids),
      'images.checkMissing': () => this.checkMissing(),
      'images.relink': ({ dir }) => this.relink(dir),

      // Label history is the asking window's own: its undo never undoes another window's labeling.
      'labels.assign': ({ imageIds, classId }) => labelsChanged(this.project.assignLabel(imageIds, classId, currentClientId()), imageIds),
      'labels.setSplit': ({ imageIds, split }) => labelsChanged(this.project.setSplit(imageIds, split, currentClientId()), imageIds),
      'labels.undo': () => {
        const step = this.project.undo(currentClientId());
        return step.changedImageIds.length ? labelsChanged(step, step.changedImageIds) : step;
      },
      'labels.redo': () => {
        const step = this.project.redo(currentClientId());
        return step.changedImageIds.length ? labelsChanged(step, step.changedImageIds) : step;
      },
      'labels.history': () => this.project.history(currentClientId()),

      'import.run': ({ importId, source, holdOut }) => this.importSource(importId, source, holdOut),
      'import.upload': ({ importId, files, holdOut }) => this.importUploaded(importId, files, holdOut),
      'import.cancel': ({ importId }) => ({ cancelled: this.cancelImport(importId) }),
      // file browser: what any path field could be typed with, listed (bounded) or zipped for a download.
      'files.list': ({ path: dir, filter, hidden, nearest }) => listFolder(dir, { filter, hidden, nearest }),
      'files.zip': ({ path: dir }) => zipFolder(dir),
      ...this.clip.handlers(),
      ...this.train.handlers(),
      ...this.labels.handlers(),
      ...labelExportToHandlers(() => this.project),
      ...this.predictions.handlers()
    };
  }
}
