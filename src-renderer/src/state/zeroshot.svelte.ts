import type { Split, TemplateLibrary, ZeroShotProgress, ZeroShotReport } from '$contract/index';
import { api, bridge } from '../lib/bridge';
import { toasts } from './toasts.svelte';

/** The zero-shot panel: chosen model and templates, the running evaluation and its report. */
class ZeroShotState {
  library = $state<TemplateLibrary | null>(null);
  modelId = $state('');
  setId = $state('imagenet-7');
  templatesText = $state('');
  split = $state<Split | ''>('');
  running = $state(false);
  progress = $state<ZeroShotProgress | null>(null);
  report = $state<ZeroShotReport | null>(null);
  private runId = '';

  constructor() {
    bridge.on('zeroshot.progress', (p) => {
      if (p.runId === this.runId) this.progress = p;
    });
  }

  templates = $derived(
    this.templatesText
      .split('\n')
      .map((t) => t.trim())
      .filter(Boolean)
  );
  invalid = $derived(this.templates.filter((t) => t.split('{}').length !== 2));

  async load(): Promise<void> {
    if (this.library) return;
    try {
      this.library = await api.templates.library();
      this.chooseSet(this.setId);
    } catch (error) {
      toasts.error(error);
    }
  }

  chooseSet(id: string): void {
    this.setId = id;
    const set = this.library?.sets.find((s) => s.id === id);
    if (set) this.templatesText = set.templates.join('\n');
  }

  async run(): Promise<void> {
    if (this.running || !this.modelId) return;
    this.runId = `zeroshot-${Date.now()}`;
    this.running = true;
    this.progress = null;
    try {
      this.report = await api.zeroshot.run({ runId: this.runId, modelId: this.modelId, templates: this.templates, split: this.split || undefined });
    } catch (error) {
      toasts.error(error);
    } finally {
      this.running = false;
    }
  }

  async cancel(): Promise<void> {
    await api.zeroshot.cancel({ runId: this.runId });
  }
}

export const zeroShotState = new ZeroShotState();
