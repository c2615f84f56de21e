/**
 * Automatic template grouping: k-means (cosine, k-means++ seeding with a fixed seed) on the templates'
 * hard-prompt text features, G chosen by the best mean silhouette when not given. Within a group,
 * templates are ordered by closeness to the group centre, so the most typical one initialises the expert.
 */
import { seededRandom } from '../util/seeded-random';

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const normalized = (v: Float32Array) => {
  const n = Math.sqrt(dot(v, v)) || 1;
  return v.map((x) => x / n);
};

export function kMeans(points: Float32Array[], k: number, seed = 1, iterations = 50): number[] {
  const random = seededRandom(seed);
  const centres: Float32Array[] = [points[Math.floor(random() * points.length)]!];
  while (centres.length < k) {
    const d = points.map((p) => Math.max(0, 1 - Math.max(...centres.map((c) => dot(p, c)))));
    const total = d.reduce((a, b) => a + b, 0);
    let r = random() * total;
    let index = d.findIndex((x) => (r -= x) <= 0);
    if (index < 0 || total === 0) index = centres.length % points.length;
    centres.push(points[index]!);
  }
  let assign = points.map(() => 0);
  for (let it = 0; it < iterations; it++) {
    const next = points.map((p) => {
      let best = 0;
      centres.forEach((c, j) => (dot(p, c) > dot(p, centres[best]!) ? (best = j) : 0));
      return best;
    });
    const changed = next.some((a, i) => a !== assign[i]);
    assign = next;
    for (let j = 0; j < k; j++) {
      const members = points.filter((_, i) => assign[i] === j);
      if (members.length === 0) continue;
      const sum = new Float32Array(points[0]!.length);
      members.forEach((m) => m.forEach((x, d) => (sum[d]! += x)));
      centres[j] = normalized(sum);
    }
    if (!changed && it > 0) break;
  }
  return assign;
}

/** Mean silhouette with cosine distance (1 − cos); 0 when some cluster is a singleton-only split. */
export function silhouette(points: Float32Array[], assign: number[]): number {
  const k = Math.max(...assign) + 1;
  if (k < 2) return 0;
  const scores = points.map((p, i) => {
    const mean = (j: number) => {
      const others = points.filter((_, o) => assign[o] === j && o !== i);
      return others.length ? others.reduce((s, q) => s + (1 - dot(p, q)), 0) / others.length : 0;
    };
    const own = points.filter((_, o) => assign[o] === assign[i] && o !== i).length;
    if (own === 0) return 0;
    const a = mean(assign[i]!);
    const b = Math.min(
      ...Array.from({ length: k }, (_, j) => j)
        .filter((j) => j !== assign[i])
        .map(mean)
    );
    return (b - a) / Math.max(a, b, 1e-12);
  });
  return scores.reduce((s, x) => s + x, 0) / scores.length;
}

export interface AutoGroupResult {
  groups: string[][];
  suggested: number;
  scores: { groups: number; silhouette: number }[];
}

/** Groups templates by their features; `groups` fixes G, otherwise G = the best silhouette in 2..8. */
export function autoGroup(templates: string[], features: Float32Array[], groups?: number, seed = 1): AutoGroupResult {
  const points = features.map(normalized);
  const maxG = Math.min(8, templates.length - 1);
  const scores: AutoGroupResult['scores'] = [];
  for (let g = 2; g <= maxG; g++) scores.push({ groups: g, silhouette: silhouette(points, kMeans(points, g, seed)) });
  const suggested = scores.length ? scores.reduce((best, s) => (s.silhouette > best.silhouette ? s : best)).groups : Math.min(templates.length, 1);
  const G = Math.max(1, Math.min(groups ?? suggested, templates.length));
  const assign = G === 1 ? templates.map(() => 0) : kMeans(points, G, seed);
  const result: string[][] = [];
  for (let j = 0; j < G; j++) {
    const members = templates.map((t, i) => ({ t, i })).filter(({ i }) => assign[i] === j);
    if (members.length === 0) continue;
    const centre = new Float32Array(points[0]!.length);
    members.forEach(({ i }) => points[i]!.forEach((x, d) => (centre[d]! += x)));
    const c = normalized(centre);
    result.push(members.sort((a, b) => dot(points[b.i]!, c) - dot(points[a.i]!, c)).map(({ t }) => t));
  }
  return { groups: result, suggested, scores };
}
