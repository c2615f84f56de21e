/**
 * Generated exported-experts folders for `mocoop import-experts P --from DIR` (manifest.json and
 * experts.safetensors, as `mocoop export` writes them and people pass them around): fields missing or
 * of the wrong type, class names beyond the app's limits, tensors of the wrong shape or with NaN, files
 * that are not JSON or not safetensors, and the same folder imported twice. Shared with the bench.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors } from '../../../src-main/clip/safetensors';
import { deepArrays, deepObjects } from './model-files';
import type { Rng } from './prng';

export interface ExpertsCase {
  kind: 'experts';
  name: string;
  /** Writes the folder (`unique` keeps run ids apart between cases) and returns it. */
  write(dir: string, unique: string): string;
  /** Import the folder twice: the second import is the one judged. */
  twice: boolean;
  mustRefuse: boolean;
}

interface Shape {
  G: number;
  A: number;
  P: number;
}

function manifestFor(s: Shape, run: string): Record<string, any> {
  return {
    format: 'mocoop-experts',
    version: 1,
    method: 'mocoop',
    run,
    model: { id: 'tiny-clip-a@0123456789ab' },
    classes: Array.from({ length: s.A }, (_, i) => `class ${i}`),
    virtualClasses: [],
    experts: s.G,
    dim: s.P,
    topK: Math.min(2, s.G),
    tauGate: 0.07,
    mixing: 'cosine',
    logitScale: 100,
    templates: [['a photo of a {}.']],
    settings: { seed: 1 }
  };
}

function tensorsFor(rng: Rng, s: Shape): Record<string, { shape: number[]; data: Float32Array }> {
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
  return {
    'experts.class_features': { shape: [s.G, s.A, s.P], data: fill(s.G * s.A * s.P) },
    'router.weight': { shape: [s.G, s.P], data: fill(s.G * s.P) },
    'router.bias': { shape: [s.G], data: fill(s.G) }
  };
}

type Made = {
  what: string;
  manifest: (run: string) => unknown;
  manifestText?: string | Buffer | null;
  tensors: Record<string, { shape: number[]; data: Float32Array }> | Buffer | null;
  mustRefuse: boolean;
  twice?: boolean;
};
type Gen = (rng: Rng) => Made;

const shape = (rng: Rng): Shape => ({ G: rng.int(1, 4), A: rng.int(1, 5), P: rng.pick([8, 16, 24]) });

const gens: Gen[] = [
  (rng) => {
    const s = shape(rng);
    return { what: `valid G=${s.G} A=${s.A} P=${s.P}`, manifest: (run) => manifestFor(s, run), tensors: tensorsFor(rng, s), mustRefuse: false };
  },
  (rng) => {
    const s = shape(rng);
    const field = rng.pick([
      'format',
      'version',
      'method',
      'run',
      'model',
      'classes',
      'virtualClasses',
      'experts',
      'dim',
      'topK',
      'tauGate',
      'templates',
      'settings'
    ]);
    const value = rng.pick([undefined, null, 'x', -1, 0, 1.5, [], {}, true, 2 ** 40, deepArrays(3)]);
    return {
      what: `manifest ${field} = ${value === undefined ? '(removed)' : JSON.stringify(value)}`,
      manifest: (run) => {
        const m = manifestFor(s, run);
        if (value === undefined) delete m[field];
        else m[field] = value;
        return m;
      },
      tensors: tensorsFor(rng, s),
      // A few replacements are still valid (e.g. a settings object, a method name as text).
      mustRefuse:
        !(field === 'settings' && value !== null && typeof value === 'object' && !Array.isArray(value)) &&
        !(field === 'method' && typeof value === 'string') &&
        !(field === 'run' && typeof value === 'string') &&
        !(field === 'tauGate' && typeof value === 'number')
    };
  },
  (rng) => {
    const s = { ...shape(rng), A: 3 };
    const bad = rng.pick(['', '   ', 'x'.repeat(rng.int(201, 20_000)), 'same', 'tab\there']);
    return {
      what: `class name ${JSON.stringify(bad.slice(0, 20))}${bad.length > 20 ? `… (${bad.length} characters)` : ''}`,
      manifest: (run) => {
        const m = manifestFor(s, run);
        m.classes = bad === 'same' ? ['same', 'same', 'other'] : ['ok', bad, 'fine'];
        return m;
      },
      tensors: tensorsFor(rng, s),
      // Class names get the limits of typed ones (1–200 characters, unique).
      mustRefuse: bad !== 'tab\there'
    };
  },
  (rng) => {
    const s = shape(rng);
    const { G, A, P } = s;
    const t = tensorsFor(rng, s);
    const change = rng.int(0, 4);
    let what: string;
    if (change === 0) {
      t['experts.class_features'] = { shape: [G, A + 1, P], data: new Float32Array(G * (A + 1) * P) };
      what = 'class features for one class more';
    } else if (change === 1) {
      delete t['router.weight'];
      what = 'no router.weight';
    } else if (change === 2) {
      t['router.bias']!.data[rng.int(0, G - 1)] = rng.pick([Number.NaN, Number.POSITIVE_INFINITY]);
      what = 'a non-finite router bias';
    } else if (change === 3) {
      t['experts.class_features']!.data[rng.int(0, G * A * P - 1)] = Number.NaN;
      what = 'a NaN class feature';
    } else {
      t['gate.group_features'] = { shape: [G + 1, P], data: new Float32Array((G + 1) * P) };
      what = 'group features for one expert more';
    }
    return { what, manifest: (run) => manifestFor(s, run), tensors: t, mustRefuse: true };
  },
  (rng) => {
    const s = shape(rng);
    const text = rng.pick([
      '',
      'null',
      '[]',
      '{"format": "mocoop-experts"',
      deepArrays(rng.int(10_000, 100_000)),
      deepObjects(rng.int(10_000, 100_000)),
      rng.bytes(rng.int(1, 300)).toString('latin1')
    ]);
    return {
      what: `manifest.json text ${JSON.stringify(text.slice(0, 24))} (${text.length} chars)`,
      manifest: () => null,
      manifestText: text,
      tensors: tensorsFor(rng, s),
      mustRefuse: true
    };
  },
  (rng) => {
    const s = shape(rng);
    const which = rng.int(0, 2);
    return {
      what: ['no experts.safetensors', 'experts.safetensors is random bytes', 'no manifest.json'][which]!,
      manifest: (run) => manifestFor(s, run),
      manifestText: which === 2 ? null : undefined,
      tensors: which === 0 ? null : which === 1 ? rng.bytes(rng.int(1, 2000)) : tensorsFor(rng, s),
      mustRefuse: true
    };
  },
  (rng) => {
    const s = shape(rng);
    // The same folder imported twice: the second import must be refused in words (or kept apart), never a crash.
    return { what: 'the same folder imported twice', manifest: (run) => manifestFor(s, run), tensors: tensorsFor(rng, s), mustRefuse: false, twice: true };
  }
];

export function expertsCase(seed: number, index: number, rng: Rng): ExpertsCase {
  const made = gens[index % gens.length]!(rng);
  return {
    kind: 'experts',
    name: `#${index} (seed ${seed}): ${made.what}`,
    twice: made.twice ?? false,
    mustRefuse: made.mustRefuse,
    write: (dir, unique) => {
      fs.mkdirSync(dir, { recursive: true });
      if (made.manifestText === undefined) fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(made.manifest(`fuzz-${unique}`), null, 2));
      else if (made.manifestText !== null) fs.writeFileSync(path.join(dir, 'manifest.json'), made.manifestText);
      if (Buffer.isBuffer(made.tensors)) fs.writeFileSync(path.join(dir, 'experts.safetensors'), made.tensors);
      else if (made.tensors) writeSafetensors(path.join(dir, 'experts.safetensors'), made.tensors, { format: 'mocoop-experts' });
      return dir;
    }
  };
}
