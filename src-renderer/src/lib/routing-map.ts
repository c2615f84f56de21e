/**
 * The Routing page's map of image features: points scaled into the drawing box, coloured by the
 * image's class, its router's first expert, or whether the run got it right, with a legend that
 * counts the points of each colour.
 */

export type ColorBy = 'class' | 'expert' | 'correct';
export type Projection = 'pca' | 'umap';

export const PROJECTION_LABELS: Record<Projection, string> = { pca: 'PCA', umap: 'UMAP' };

export interface MapPrediction {
  imageId: number;
  labelId: number;
  correct: boolean;
  topExperts: number[];
}

export const EXPERT_COLORS = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#0b7285', '#e67700', '#c2255c', '#5c940d'];
export const expertColor = (j: number): string => EXPERT_COLORS[((j % EXPERT_COLORS.length) + EXPERT_COLORS.length) % EXPERT_COLORS.length]!;
export const CORRECT_COLORS = { right: '#1f8a4c', wrong: '#c62f3b' } as const;

export interface LegendEntry {
  /** What a point of this colour is: `class:3`, `expert:0`, `right`, `wrong`. */
  key: string;
  label: string;
  color: string;
  count: number;
}

/** The colour of one point. */
export function pointColor(p: MapPrediction, by: ColorBy, classColor: (id: number) => string): string {
  if (by === 'class') return classColor(p.labelId);
  if (by === 'expert') return expertColor(p.topExperts[0] ?? 0);
  return p.correct ? CORRECT_COLORS.right : CORRECT_COLORS.wrong;
}

/** The key of the legend entry a point belongs to (to highlight a legend entry's points). */
export function pointKey(p: MapPrediction, by: ColorBy): string {
  if (by === 'class') return `class:${p.labelId}`;
  if (by === 'expert') return `expert:${p.topExperts[0] ?? 0}`;
  return p.correct ? 'right' : 'wrong';
}

/**
 * One entry per colour present on the map, with its count: classes in the order given by
 * `classOrder` (then any other), experts by number, right before wrong. Only colours with points.
 */
export function legendEntries(
  points: MapPrediction[],
  by: ColorBy,
  names: { className: (id: number) => string; classColor: (id: number) => string; classOrder?: number[]; expertName?: (j: number) => string }
): LegendEntry[] {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(pointKey(p, by), (counts.get(pointKey(p, by)) ?? 0) + 1);
  if (by === 'correct') {
    return [
      { key: 'right', label: 'predicted right', color: CORRECT_COLORS.right, count: counts.get('right') ?? 0 },
      { key: 'wrong', label: 'predicted wrong', color: CORRECT_COLORS.wrong, count: counts.get('wrong') ?? 0 }
    ].filter((e) => e.count > 0);
  }
  if (by === 'expert') {
    const experts = [...new Set(points.map((p) => p.topExperts[0] ?? 0))].sort((a, b) => a - b);
    return experts.map((j) => ({
      key: `expert:${j}`,
      label: names.expertName?.(j) ?? `expert ${j + 1}`,
      color: expertColor(j),
      count: counts.get(`expert:${j}`) ?? 0
    }));
  }
  const present = new Set(points.map((p) => p.labelId));
  const order = [
    ...(names.classOrder ?? []).filter((id) => present.has(id)),
    ...[...present].filter((id) => !(names.classOrder ?? []).includes(id)).sort((a, b) => a - b)
  ];
  return order.map((id) => ({ key: `class:${id}`, label: names.className(id), color: names.classColor(id), count: counts.get(`class:${id}`) ?? 0 }));
}

/** Map coordinates scaled into a width×height box with `pad` px kept free on every side (a flat axis is centred). */
export function scalePoints<T extends { x: number; y: number }>(points: T[], width: number, height: number, pad = 10): (T & { sx: number; sy: number })[] {
  if (points.length === 0) return [];
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const p of points) {
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y);
    y1 = Math.max(y1, p.y);
  }
  const sx = (x: number) => (x1 > x0 ? pad + ((x - x0) / (x1 - x0)) * (width - 2 * pad) : width / 2);
  const sy = (y: number) => (y1 > y0 ? pad + ((y - y0) / (y1 - y0)) * (height - 2 * pad) : height / 2);
  return points.map((p) => ({ ...p, sx: sx(p.x), sy: sy(p.y) }));
}
