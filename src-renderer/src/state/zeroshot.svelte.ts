import type { Split, TemplateLibrary, ZeroShotProgress, ZeroShotReport } from '$contract/index';
import { attempt } from '../lib/attempt';
import { api, bridge } from '../lib/bridge';
import { hasOneClassSlot } from '$contract/template-rule';

/** The zero-shot panel: chosen model and templates, the running evaluation and its report. */
class ZeroShotState {
  library = $state<TemplateLibrary | null>(null);
  /** The open project's own template groups (the experts' groups), offered besides the library. */
  projectGroups = $state<{ id: number; name: string; templates: string[] }[]>([]);
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
  invalid = $derived(this.templates.filter((t) => !hasOneClassSlot(t)));

  async load(): Promise<void> {
    await attempt(async () => {
      // The project's groups change with the project and on the Templates page: read them every time.
      const [library, groups] = await Promise.all([
        this.library ?? api.templates.library(),
        api.templates.groups().catch(() => [] as { id: number; name: string; templates: string[] }[])
      ]);
      const first = !this.library;
      this.library = library;
      this.projectGroups = groups.filter((g) => g.templates.length > 0).map((g) => ({ id: g.id, name: g.name, templates: g.templates }));
      // A project group chosen before that no longer exists falls back to the library's default.
      if (first || (this.setId.startsWith('project:') && !this.findSet(this.setId))) this.chooseSet(this.findSet(this.setId) ? this.setId : 'imagenet-7');
    });
  }

  /** A library set (`imagenet-7`), every project group together (`project:all`) or one of them (`project:<id>`). */
  findSet(id: string): { templates: string[] } | undefined {
    if (id === 'project:all') return this.projectGroups.length ? { templates: [...new Set(this.projectGroups.flatMap((g) => g.templates))] } : undefined;
    if (id.startsWith('project:')) return this.projectGroups.find((g) => `project:${g.id}` === id);
    return this.library?.sets.find((s) => s.id === id);
  }

  chooseSet(id: string): void {
    this.setId = id;
    const set = this.findSet(id);
    if (set) this.templatesText = set.templates.join('\n');
  }

  async run(): Promise<void> {
    if (this.running || !this.modelId) return;
    this.runId = `zeroshot-${Date.now()}`;
    this.progress = null;
    await attempt(
      async () => {
        this.report = await api.zeroshot.run({ runId: this.runId, modelId: this.modelId, templates: this.templates, split: this.split || undefined });
      },
      { busy: (on) => (this.running = on) }
    );
  }

  async cancel(): Promise<void> {
    await api.zeroshot.cancel({ runId: this.runId });
  }
}

export const zeroShotState = new ZeroShotState();
