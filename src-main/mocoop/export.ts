/**
 * Trained experts as a portable folder: experts.safetensors (the G×A×P table of expert class
 * features, the router, the group prototypes, or a linear probe's weights) and manifest.json (class
 * names, settings, model). Importing needs no text encoder: the table is all inference uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SafetensorsFile, writeSafetensors } from '../clip/safetensors';
import { AppError } from '../contract/errors';
import { checkWithContract, classNameProblem } from '../contract/limits';
import { readJsonFile } from '../clip/regular-file';
import type { ExpertTable } from './inference';

export const Manifest = z
  .object({
    format: z.literal('mocoop-experts'),
    version: z.literal(1),
    method: z.string(),
    run: z.string(),
    model: z.object({ id: z.string() }),
    classes: z.array(z.string()),
    virtualClasses: z.array(z.string()),
    experts: z.number().int().positive(),
    dim: z.number().int().positive(),
    topK: z.number().int().positive(),
    tauGate: z.number(),
    mixing: z.enum(['cosine', 'dot']).default('cosine'),
    /** The scale of the classification logits (1/τ_ce, CLIP's logit scale, or 1); absent in older exports. */
    logitScale: z.number().positive().optional(),
    templates: z.array(z.array(z.string())),
    settings: z.record(z.string(), z.unknown())
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    for (const [key, names] of [
      ['classes', m.classes],
      ['virtualClasses', m.virtualClasses]
    ] as const) {
      names.forEach((name, i) => {
        const problem = classNameProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', path: [key, i], message: `class name ${JSON.stringify(name.slice(0, 60))}: ${problem}` });
        else if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [key, i], message: `class "${name}" is listed twice` });
        seen.add(name);
      });
    }
  });
export type Manifest = z.infer<typeof Manifest>;

export function exportExperts(dir: string, table: ExpertTable, manifest: Manifest): { manifest: string; weights: string } {
  fs.mkdirSync(dir, { recursive: true });
  const { experts: G, classes: A, dim: P } = table;
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {
    // CoCoOp has no fixed class features: its context and meta-network instead.
    ...(table.conditional ? {} : { 'experts.class_features': { shape: [G, A, P], data: table.features } }),
    'router.weight': { shape: [G, P], data: table.W },
    'router.bias': { shape: [G], data: table.b }
  };
  const c = table.conditional;
  if (c) {
    tensors['cocoop.ctx'] = { shape: [c.contextLength, c.width], data: c.ctx };
    tensors['cocoop.meta.linear1.weight'] = { shape: [P, c.hidden], data: c.W1 };
    tensors['cocoop.meta.linear1.bias'] = { shape: [c.hidden], data: c.b1 };
    tensors['cocoop.meta.linear2.weight'] = { shape: [c.hidden, c.width], data: c.W2 };
    tensors['cocoop.meta.linear2.bias'] = { shape: [c.width], data: c.b2 };
  }
  if (table.groupFeatures) tensors['gate.group_features'] = { shape: [G, P], data: table.groupFeatures };
  if (table.linear) {
    tensors['linear.weight'] = { shape: [table.linear.bias.length, P], data: table.linear.weights };
    tensors['linear.bias'] = { shape: [table.linear.bias.length], data: table.linear.bias };
  }
  const files = { manifest: path.join(dir, 'manifest.json'), weights: path.join(dir, 'experts.safetensors') };
  writeSafetensors(files.weights, tensors, { format: 'mocoop-experts' });
  fs.writeFileSync(files.manifest, JSON.stringify(manifest, null, 2));
  return files;
}

export function importExperts(dir: string): { table: ExpertTable; manifest: Manifest } {
  const manifestFile = path.join(dir, 'manifest.json');
  const json = readJsonFile(manifestFile, 'Choose a folder written by "Export experts".');
  const manifest = checkWithContract(Manifest, json, (where) => `${manifestFile}${where ? ` (field "${where}")` : ''}`, 'bad_source');
  const st = SafetensorsFile.open(path.join(dir, 'experts.safetensors'));
  try {
    const A = manifest.classes.length + manifest.virtualClasses.length;
    const expect = (name: string, shape: number[]) => {
      const e = st.entries.get(name);
      if (!e || e.shape.join(',') !== shape.join(','))
        throw new AppError('bad_source', `${st.file}: tensor "${name}" should have shape [${shape.join(', ')}] for this manifest.`);
      return st.readFloat32(name);
    };
    const G = manifest.experts;
    const P = manifest.dim;
    const table: ExpertTable = {
      experts: G,
      classes: A,
      dim: P,
      topK: manifest.topK,
      tauGate: manifest.tauGate,
      mixing: manifest.mixing,
      ...(manifest.logitScale !== undefined ? { logitScale: manifest.logitScale } : {}),
      features: st.entries.has('cocoop.ctx') ? new Float32Array(0) : expect('experts.class_features', [G, A, P]),
      W: expect('router.weight', [G, P]),
      b: expect('router.bias', [G]),
      groupFeatures: st.entries.has('gate.group_features') ? expect('gate.group_features', [G, P]) : undefined
    };
    if (st.entries.has('cocoop.ctx')) {
      const [n, width] = st.entries.get('cocoop.ctx')!.shape as [number, number];
      const hidden = st.entries.get('cocoop.meta.linear1.bias')?.shape[0] ?? 0;
      table.conditional = {
        contextLength: n,
        width,
        hidden,
        ctx: expect('cocoop.ctx', [n, width]),
        W1: expect('cocoop.meta.linear1.weight', [P, hidden]),
        b1: expect('cocoop.meta.linear1.bias', [hidden]),
        W2: expect('cocoop.meta.linear2.weight', [hidden, width]),
        b2: expect('cocoop.meta.linear2.bias', [width])
      };
    }
    if (st.entries.has('linear.bias')) {
      const C = st.entries.get('linear.bias')!.shape[0]!;
      table.linear = { weights: expect('linear.weight', [C, P]), bias: expect('linear.bias', [C]) };
    }
    return { table, manifest };
  } finally {
    st.close();
  }
}
