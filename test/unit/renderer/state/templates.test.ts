import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestError } from '../../../../src-main/contract/client';

const fake = vi.hoisted(() => {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  return {
    listeners,
    api: {
      templates: { library: vi.fn(), groups: vi.fn(), setGroups: vi.fn(), measurement: vi.fn(), analyze: vi.fn(), autoGroup: vi.fn() },
      project: { revisions: vi.fn() },
      models: { list: vi.fn(), backend: vi.fn() }
    }
  };
});
vi.mock('../../../../src-renderer/src/lib/bridge', () => ({
  api: fake.api,
  bridge: {
    transport: 'web',
    api: fake.api,
    clientId: 'me',
    on: (name: string, listener: (payload: unknown) => void) => {
      if (!fake.listeners.has(name)) fake.listeners.set(name, new Set());
      fake.listeners.get(name)!.add(listener);
      return () => fake.listeners.get(name)?.delete(listener);
    },
    mediaUrl: () => ''
  },
  RequestError: Error
}));

const { templates } = await import('../../../../src-renderer/src/state/templates.svelte');
const { templateDrafts } = await import('../../../../src-renderer/src/state/template-drafts');
const { conflicts } = await import('../../../../src-renderer/src/state/conflicts.svelte');
const { toasts } = await import('../../../../src-renderer/src/state/toasts.svelte');
const api = fake.api;
const emit = (name: string, payload: unknown) => fake.listeners.get(name)?.forEach((l) => l(payload));
/**
 * Lets the page's loads finish. (These tests compile the state for the server, as the other state
 * tests do, so its effects never run: the draft is seeded by hand and the look-up is called.)
 */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

const library = { sets: [], groupings: [{ id: 'flowers', name: 'Flowers', groups: [['a photo of a {}.', 'a {} flower.'], ['art of the {}.']] }] };
const saved = () => [{ id: 1, name: 'photos', templates: ['a photo of a {}.'] }];
const analysis = (accuracy: number) => ({
  images: 4,
  groups: [{ accuracy, gateShare: 1, templates: [{ template: 'a photo of a {}.', accuracy }] }],
  measuredAt: '2026-01-01T00:00:00Z',
  seconds: 2,
  modelId: 'm'
});
let close: () => void = () => {};
let project = '';

beforeEach(async () => {
  close();
  vi.clearAllMocks();
  toasts.reset();
  conflicts.dismiss();
  project = `/p/${Math.random()}.mocoop`;
  api.templates.library.mockResolvedValue(library);
  api.templates.groups.mockImplementation(async () => saved());
  api.templates.measurement.mockResolvedValue(null);
  api.project.revisions.mockResolvedValue({ templates: 3 });
  api.models.list.mockResolvedValue([{ id: 'm', name: 'tiny', available: true }]);
  api.models.backend.mockResolvedValue({});
  close = templates.open(project);
  await settle();
});

describe('the Templates page state', () => {
  it('loads the saved groups clean; edits make it dirty until saved, naming the revision loaded', async () => {
    expect(templates.ready).toBe(true);
    expect(templates.groups).toEqual([{ name: 'photos', templates: ['a photo of a {}.'] }]);
    expect(templates.libraryId).toBe('flowers');
    expect(templates.dirty).toBe(false);

    templates.drafts[0] = ' a {} in the wild. ';
    templates.addTemplate(0);
    expect(templates.groups[0]!.templates).toEqual(['a photo of a {}.', 'a {} in the wild.']);
    expect(templates.drafts[0]).toBe('');
    expect(templates.dirty).toBe(true);

    api.templates.setGroups.mockResolvedValue([]);
    api.templates.groups.mockResolvedValue([{ id: 1, name: 'photos', templates: ['a photo of a {}.', 'a {} in the wild.'] }]);
    await templates.save();
    expect(api.templates.setGroups).toHaveBeenCalledWith({
      groups: [{ name: 'photos', templates: ['a photo of a {}.', 'a {} in the wild.'] }],
      expectedRevision: 3
    });
    expect(templates.dirty).toBe(false);
  });

  it('blocks saving on a template without {} or an empty group, and says which', () => {
    templates.groups[0]!.templates[0] = 'a photo of a flower';
    expect(templates.problems[0]![0]?.level).toBe('error');
    expect(templates.blocking).toBe(true);
    templates.groups[0]!.templates[0] = 'a photo of a {}.';
    expect(templates.blocking).toBe(false);
    templates.addGroup();
    expect(templates.hasEmptyGroup).toBe(true);
    expect(templates.blocking).toBe(true);
  });

  it('brings unsaved edits back on the next visit, over the same saved groups only', async () => {
    close();
    expect(templates.groups).toEqual([]);
    const edited = [{ name: 'photos', templates: ['a photo of a {}.', 'a {} in the wild.'] }];
    templateDrafts.set(project, { saved: JSON.stringify([{ name: 'photos', templates: ['a photo of a {}.'] }]), groups: edited });
    close = templates.open(project);
    await settle();
    expect(templates.groups).toEqual(edited);
    expect(templates.drafts).toEqual(['']);
    expect(templates.dirty).toBe(true);
    expect(toasts.items.map((t) => t.text)).toContain('Your unsaved template changes are back. Save them, or reload the page to drop them.');

    // Another window saved other groups meanwhile: the draft is stale and not restored.
    close();
    api.templates.groups.mockResolvedValue([{ id: 2, name: 'theirs', templates: ['itap of a {}.'] }]);
    close = templates.open(project);
    await settle();
    expect(templates.groups.map((g) => g.name)).toEqual(['theirs']);
    expect(templates.dirty).toBe(false);
  });

  it('moves templates within and between groups', () => {
    templates.useLibrary();
    templates.move(0, 1, -1);
    expect(templates.groups[0]!.templates).toEqual(['a {} flower.', 'a photo of a {}.']);
    templates.move(0, 0, -1);
    expect(templates.groups[0]!.templates).toEqual(['a {} flower.', 'a photo of a {}.']);
    templates.startDrag(0, 0);
    templates.drop(1);
    expect(templates.groups.map((g) => g.templates)).toEqual([['a photo of a {}.'], ['art of the {}.', 'a {} flower.']]);
    templates.removeTemplate(1, 0);
    templates.removeGroup(0);
    expect(templates.groups).toEqual([{ name: 'Group 2', templates: ['a {} flower.'] }]);
  });

  it('a save refused because another window saved first offers Reload / Overwrite; Overwrite names the revision now', async () => {
    templates.groups[0]!.name = 'mine';
    api.templates.setGroups.mockRejectedValueOnce(new RequestError('stale_revision', 'The template groups changed in another window — reload or overwrite.'));
    await templates.save();
    expect(conflicts.of('templates')?.message).toContain('another window');

    api.project.revisions.mockResolvedValue({ templates: 5 });
    api.templates.setGroups.mockResolvedValue([]);
    api.templates.groups.mockResolvedValue([{ id: 1, name: 'mine', templates: ['a photo of a {}.'] }]);
    await conflicts.resolve('overwrite');
    expect(api.templates.setGroups).toHaveBeenLastCalledWith({ groups: [{ name: 'mine', templates: ['a photo of a {}.'] }], expectedRevision: 5 });
    expect(templates.dirty).toBe(false);
  });

  it('shows groups saved elsewhere at once, but over unsaved edits only says so', async () => {
    api.templates.groups.mockResolvedValue([{ id: 2, name: 'theirs', templates: ['itap of a {}.'] }]);
    emit('project.changed', { reason: 'templates', origin: 'me' });
    await settle();
    expect(templates.groups.map((g) => g.name)).toEqual(['photos']);
    emit('project.changed', { reason: 'templates', origin: 'other' });
    await settle();
    expect(templates.groups.map((g) => g.name)).toEqual(['theirs']);

    templates.groups[0]!.name = 'edited';
    emit('project.changed', { reason: 'templates', origin: 'other' });
    await settle();
    expect(templates.changedElsewhere).toBe(true);
    expect(templates.groups.map((g) => g.name)).toEqual(['edited']);
    await templates.reload();
    expect(templates.changedElsewhere).toBe(false);
    expect(templates.groups.map((g) => g.name)).toEqual(['theirs']);
  });

  it('measures with progress, shows the result only for the templates measured, and finds a kept one again', async () => {
    let finish: (value: unknown) => void = () => {};
    api.templates.analyze.mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    const measuring = templates.measure();
    expect(templates.measuring).toBe(true);
    const { analysisId } = api.templates.analyze.mock.calls[0]![0] as { analysisId: string };
    emit('templates.progress', { analysisId: 'someone-else', phase: 'images', done: 1, total: 9, elapsedSeconds: 1, etaSeconds: null });
    expect(templates.progress).toBeNull();
    emit('templates.progress', { analysisId, phase: 'images', done: 2, total: 4, elapsedSeconds: 1, etaSeconds: 1 });
    expect(templates.progress?.done).toBe(2);
    finish(analysis(0.75));
    await measuring;
    expect(templates.measuring).toBe(false);
    expect(templates.progress).toBeNull();
    expect(templates.analysisCurrent).toBe(true);
    expect(templates.groupStats(0)?.accuracy).toBe(0.75);
    expect(templates.accuracyOf(' a photo of a {}. ')).toBe(0.75);
    expect(templates.measuredWhen(templates.analysis!)).toMatch(/^ Measured .* with tiny in 2\.0 s\.$/);

    // An edit makes it a measurement of other templates; the kept one for the new templates is looked up.
    api.templates.measurement.mockResolvedValue(analysis(0.5));
    templates.groups[0]!.templates[0] = 'a photo of the {}.';
    expect(templates.analysisCurrent).toBe(false);
    expect(templates.groupStats(0)).toBeUndefined();
    templates.lookUpSoon();
    expect(api.templates.measurement).not.toHaveBeenCalledWith(expect.objectContaining({ groups: [['a photo of the {}.']] }));
    // The look-up waits for typing to pause (a short timer), then asks once.
    await vi.waitFor(() => expect(api.templates.measurement).toHaveBeenLastCalledWith({ modelId: 'm', groups: [['a photo of the {}.']] }));
    await vi.waitFor(() => expect(templates.groupStats(0)?.accuracy).toBe(0.5));
  });

  it('drops a measurement that finishes after the page closed', async () => {
    let finish: (value: unknown) => void = () => {};
    api.templates.analyze.mockImplementation(() => new Promise((resolve) => (finish = resolve)));
    const measuring = templates.measure();
    close();
    close = templates.open(project);
    await settle();
    finish(analysis(0.9));
    await measuring;
    expect(templates.analysis).toBeNull();
    expect(templates.measuring).toBe(false);
  });

  it('proposes a grouping, and applying it replaces the groups', async () => {
    templates.useLibrary();
    api.templates.autoGroup.mockResolvedValue({ groups: [['a photo of a {}.', 'art of the {}.'], ['a {} flower.']], suggested: 2, scores: [] });
    await templates.propose();
    expect(api.templates.autoGroup).toHaveBeenCalledWith({
      modelId: 'm',
      templates: ['a photo of a {}.', 'a {} flower.', 'art of the {}.'],
      groups: undefined
    });
    expect(templates.autoG).toBe(2);
    templates.applyProposal();
    expect(templates.proposal).toBeNull();
    expect(templates.groups.map((g) => g.templates)).toEqual([['a photo of a {}.', 'art of the {}.'], ['a {} flower.']]);
    expect(JSON.parse(templates.exportJson())).toEqual({ groups: JSON.parse(JSON.stringify(templates.groups)) });
  });
});
