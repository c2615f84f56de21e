import type { BackendSummary, DownloadProgress, ModelInfo } from '$contract/index';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { toasts } from './toasts.svelte';

export const HUB_MODELS = [
  { repo: 'openai/clip-vit-base-patch16', label: 'ViT-B/16 (recommended, ≈600 MB)' },
  { repo: 'openai/clip-vit-base-patch32', label: 'ViT-B/32 (fastest, ≈600 MB)' },
  { repo: 'openai/clip-vit-large-patch14', label: 'ViT-L/14 (most accurate, ≈1.7 GB)' }
];

/** Installed models, the active compute backend, and the download in progress. */
class ModelsState {
  #models = $state<ModelInfo[]>([]);
  #backend = $state<BackendSummary | null>(null);
  #backendError = $state('');
  #downloading = $state<string | null>(null);
  #progress = $state<DownloadProgress | null>(null);
  #downloadId = '';
  #available = $derived(this.#models.filter((m) => m.available));

  constructor() {
    bridge.on('models.downloadProgress', (p) => {
      if (p.downloadId === this.#downloadId) this.#progress = p;
    });
  }

  /** The installed models, as last listed. */
  get models(): ModelInfo[] {
    return this.#models;
  }
  /** The installed models whose files are all there (the ones a page can use). */
  get available(): ModelInfo[] {
    return this.#available;
  }
  /** The compute backend in use (null: not known yet, or being changed). */
  get backend(): BackendSummary | null {
    return this.#backend;
  }
  /** Why the backend could not be read or set ('' when it could). */
  get backendError(): string {
    return this.#backendError;
  }
  /** The repository being downloaded, or null. */
  get downloading(): string | null {
    return this.#downloading;
  }
  get progress(): DownloadProgress | null {
    return this.#progress;
  }

  async load(): Promise<void> {
    await attempt(async () => {
      this.#models = await api.models.list();
    });
    if (!this.#backend) {
      api.models
        .backend()
        .then((b) => (this.#backend = b))
        .catch((error) => (this.#backendError = error instanceof Error ? error.message : String(error)));
    }
  }

  async setBackend(preference: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'): Promise<void> {
    this.#backend = null;
    this.#backendError = '';
    try {
      this.#backend = await api.models.setBackend({ preference });
    } catch (error) {
      this.#backendError = error instanceof Error ? error.message : String(error);
    }
  }

  async download(repo: string): Promise<void> {
    if (this.#downloading) return;
    this.#downloadId = `download-${Date.now()}`;
    this.#progress = null;
    await attempt(
      async () => {
        const model = await api.models.download({ downloadId: this.#downloadId, repo });
        toasts.show(`Installed ${model.name}`);
        await this.load();
      },
      { busy: (on) => (this.#downloading = on ? repo : null) }
    );
  }

  async cancel(): Promise<void> {
    await api.models.cancelDownload({ downloadId: this.#downloadId });
  }

  async importFolder(dir: string, name?: string): Promise<boolean> {
    const imported = await attempt(async () => {
      const model = await api.models.import({ dir, name: name || undefined });
      toasts.show(`Imported ${model.name}`);
      await this.load();
      return true;
    });
    return imported ?? false;
  }

  async remove(id: string): Promise<void> {
    await attempt(async () => {
      this.#models = await api.models.remove({ id });
    });
  }
}

export const modelsState = new ModelsState();

export { formatBytes, formatDuration as formatEta } from '$contract/format';
