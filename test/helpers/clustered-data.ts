import { seededRandom } from '../../src-main/mocoop/fewshot';
import type { TrainData } from '../../src-main/mocoop/trainer';

/** Image features in clusters, one cluster per class, deterministic; names and groups as given. */
export function clusteredData(classes: string[], perClass: number, dim: number, seed: number, extra: Pick<TrainData, 'virtualNames' | 'groups'>): TrainData {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centers = classes.map(() => Float32Array.from({ length: dim }, gauss));
  const features: Float32Array[] = [];
  const labels: number[] = [];
  classes.forEach((_, c) => {
    for (let n = 0; n < perClass; n++) {
      const v = centers[c]!.map((x) => x + 0.3 * gauss());
      const norm = Math.hypot(...v);
      features.push(v.map((x) => x / norm));
      labels.push(c);
    }
  });
  return { classNames: classes, ...extra, features, labels };
}
