import type { ProjectSummary, RecentProject } from '$contract/index';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { toasts } from './toasts.svelte';
import { expected, isStaleRevision } from '../lib/conflict';
import { currentRevisions } from './conflicts.svelte';

/** The open project (or none), the recent list and what the host can do. */
class AppState {
  #project = $state<ProjectSummary | null>(null);
  #recent = $state<RecentProject[]>([]);
  #mode = $state<'electron' | 'web'>(bridge.transport);
  #defaultProjectDir = $state('');
  #version = $state('');
  #ready = $state(false);
  /** The settings' revision when the project summary was loaded: a rename names it (another window's rename is not wiped). */
  #settingsRevision: number | undefined;

  /** The open project's summary (its name, counts, missing files), or null on the start page. */
  get project(): ProjectSummary | null {
    return this.#project;
  }
  get recent(): RecentProject[] {
    return this.#recent;
  }
  /** Electron (native dialogs, paths of this machine) or the web server (paths of the server's machine). */
  get mode(): 'electron' | 'web' {
    return this.#mode;
  }
  get defaultProjectDir(): string {
    return this.#defaultProjectDir;
  }
  get version(): string {
    return this.#version;
  }
  /** The first look at the host and the open project is done. */
  get ready(): boolean {
    return this.#ready;
  }

  async init(): Promise<void> {
    await attempt(async () => {
      const [info, current, recent] = await Promise.all([api.app.info(), api.project.current(), api.project.recent()]);
      this.#mode = info.mode;
      this.#version = info.version;
      this.#defaultProjectDir = info.defaultProjectDir;
      this.#project = current;
      this.#recent = recent;
    });
    this.#ready = true;
    bridge.on('project.changed', () => void this.refresh());
  }

  async refresh(): Promise<void> {
    if (!this.#project) return;
    await attempt(async () => {
      // The revision first: a rename in between makes this window's rename refused, never silently applied.
      this.#settingsRevision = (await currentRevisions())?.settings;
      this.#project = await api.project.current();
    });
  }

  async create(path: string, name: string): Promise<boolean> {
    const created = await attempt(
      async () => {
        this.#settingsRevision = undefined;
        return (this.#project = await api.project.create({ path, name }));
      },
      { success: (project) => `Created "${project.name}" as ${project.path}` }
    );
    return created !== undefined;
  }

  /** Creates the project and the folder it goes in (`folder`, which the user agreed to create). */
  async createWithFolder(path: string, name: string, folder: string): Promise<boolean> {
    const created = await attempt(
      async () => {
        this.#settingsRevision = undefined;
        return (this.#project = await api.project.create({ path, name, createFolder: true }));
      },
      { success: (project) => `Created the folder ${folder} and "${project.name}" in it` }
    );
    return created !== undefined;
  }

  async open(path: string): Promise<boolean> {
    try {
      this.#settingsRevision = undefined;
      this.#project = await api.project.open({ path });
      return true;
    } catch (error) {
      toasts.error(error);
      this.#recent = await api.project.recent().catch(() => this.#recent);
      return false;
    }
  }

  async rename(name: string, force = false): Promise<void> {
    try {
      this.#project = await api.project.rename({ name, ...(force ? {} : expected(this.#settingsRevision)) });
      await this.refresh();
    } catch (error) {
      // Another window renamed the project first (its name shows here already): keep it, or put this name over it.
      if (isStaleRevision(error)) toasts.show(error.message, 'error', { label: `Use "${name}"`, run: () => void this.rename(name, true) });
      else toasts.error(error);
    }
  }

  async close(): Promise<void> {
    await api.project.close();
    this.#project = null;
    this.#recent = await api.project.recent();
  }

  async forget(path: string): Promise<void> {
    this.#recent = await api.project.forgetRecent({ path });
  }

  async pickPath(kind: 'folder' | 'file' | 'save', title?: string): Promise<string | null> {
    if (this.#mode !== 'electron') return null;
    return (await api.app.pickPath({ kind, title })).path;
  }
}

export const appState = new AppState();
