import { METHOD_LABELS, type TrainMethod } from '$contract/methods';
/** The training methods as the Train page offers them. */
export const METHODS = (Object.entries(METHOD_LABELS) as [TrainMethod, string][]).map(([id, label]) => ({ id, label }));

/** A method's short name for messages: "MoCoOp", "CoOp", "Zero-shot CLIP", … */
export function methodName(id: string): string {
  const label = METHODS.find((m) => m.id === id)?.label ?? id;
  return label.replace(/ \(.*\)$/, '');
}

/** What tells runs apart in a table: the few-shot set, and the settings that matter for the method. */
export function runDescription(run: { method: string; settings: Record<string, unknown> }, sets: { id: number; name: string }[]): string {
  const st = run.settings;
  const set = sets.find((x) => x.id === st.setId)?.name ?? (st.setId !== undefined ? `set #${st.setId}` : 'imported');
  const parts = [set, ...settingsParts(run)];
  if (typeof st.seed === 'number') parts.push(`seed ${st.seed}`);
  return parts.join(' · ');
}

/** The settings that matter for the method, without set or seed: "K 2 · schedule lasp-25 · 25 epochs". */
function settingsParts(run: { method: string; settings: Record<string, unknown> }): string[] {
  const st = run.settings;
  const parts: string[] = [];
  if (run.method.startsWith('mocoop') && typeof st.topK === 'number') parts.push(`K ${st.topK}`);
  if (!['zeroshot', 'linear-probe'].includes(run.method) && typeof st.schedule === 'string') parts.push(`schedule ${st.schedule}`);
  if (!['zeroshot', 'linear-probe'].includes(run.method) && typeof st.epochs === 'number') parts.push(`${st.epochs} epochs`);
  return parts;
}

/** What runs of different seeds share: the set's protocol (k per class, base-to-new) or the hand-picked set, and the settings. */
export function seedGroupDescription(
  run: { method: string; settings: Record<string, unknown> },
  sets: { id: number; name: string; k: number | null; newClassIds: number[] }[]
): string {
  const set = sets.find((x) => x.id === run.settings.setId);
  const protocol = set ? (set.k !== null ? `${set.k}-shot${set.newClassIds.length ? ' base-to-new' : ''}` : set.name) : 'imported';
  return [methodName(run.method), protocol, ...settingsParts(run)].join(' · ');
}

// ---- which setting shows for which method (the contract's table, shared with the services) ----

import { settingApplies } from '$contract/method-settings';

export { type TrainSettingKey, keepApplying, methodSpec, settingApplies } from '$contract/method-settings';

/** How a run is called on screen: its name, else its id. */
export function runLabel(run: { id: string; name?: string | null }): string {
  return run.name?.trim() || run.id;
}

/** A queued run in one line: method, name, set, seed and the settings that matter for the method. */
export function queuedDescription(
  settings: { method: string; name?: string; setId?: number; seed?: number; topK?: number; schedule?: string; epochs?: number },
  sets: { id: number; name: string }[]
): string {
  const set = sets.find((s) => s.id === settings.setId)?.name ?? (settings.setId !== undefined ? `set #${settings.setId}` : 'latest set');
  const parts = [
    methodName(settings.method),
    ...(settings.name?.trim() ? [`"${settings.name.trim()}"`] : []),
    set,
    ...settingsParts({ method: settings.method, settings })
  ];
  if (typeof settings.seed === 'number' && settingApplies(settings.method, 'seed')) parts.push(`seed ${settings.seed}`);
  return parts.join(' · ');
}
