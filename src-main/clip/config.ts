import path from 'node:path';
import { z } from 'zod';
import { readRegularTextFile, unreadableReason } from './regular-file';

const positiveInt = z.number().int().positive();

const TextConfig = z.object({
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  vocab_size: positiveInt,
  max_position_embeddings: positiveInt,
  layer_norm_eps: z.number().positive().default(1e-5),
  hidden_act: z.string().default('quick_gelu')
});

const VisionConfig = z.object({
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  image_size: positiveInt,
  patch_size: positiveInt,
  num_channels: positiveInt.default(3),
  layer_norm_eps: z.number().positive().default(1e-5),
  hidden_act: z.string().default('quick_gelu')
});

const HfClipConfig = z.object({
  projection_dim: positiveInt,
  text_config: TextConfig,
  vision_config: VisionConfig
});

export interface TowerConfig {
  width: number;
  mlp: number;
  layers: number;
  heads: number;
  eps: number;
}

export interface ClipConfig {
  projectionDim: number;
  text: TowerConfig & { vocabSize: number; contextLength: number };
  vision: TowerConfig & { imageSize: number; patchSize: number; channels: number };
}

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

/** A JSON value for a message, without serialising it whole (a hostile file may nest 100,000 levels deep). */
function shownValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** One sentence for the first problem of a config.json: the field, what it must be, and what it holds. */
function describeIssue(issue: z.core.$ZodIssue, json: unknown, file: string): string {
  let value: unknown = json;
  for (const key of issue.path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  const field = issue.path.join('.');
  const hint = 'Is this the config.json of a HuggingFace CLIP model (CLIPModel)?';
  if (!field) return `${file} must hold a JSON object with projection_dim, text_config and vision_config, but it holds ${shownValue(value)}. ${hint}`;
  if (value === undefined) return `${file}: ${field} is missing. ${hint}`;
  const key = String(issue.path.at(-1));
  const wanted = key.endsWith('_config')
    ? 'an object'
    : key === 'hidden_act'
      ? 'a text'
      : key === 'layer_norm_eps'
        ? 'a number above 0'
        : 'a whole number above 0';
  return `${file}: ${field} must be ${wanted}, but it is ${shownValue(value)}. ${hint}`;
}

/** Parses and checks an HF CLIPConfig; every problem names the file and the field. */
export function parseClipConfig(json: unknown, file = 'config.json'): ClipConfig {
  const parsed = HfClipConfig.safeParse(json);
  if (!parsed.success) throw new ModelConfigError(describeIssue(parsed.error.issues[0]!, json, file));
  const { text_config: t, vision_config: v, projection_dim } = parsed.data;
  for (const [name, tower] of [
    ['text_config', t],
    ['vision_config', v]
  ] as const) {
    if (tower.hidden_act !== 'quick_gelu')
      throw new ModelConfigError(`${file}: ${name}.hidden_act is "${tower.hidden_act}"; only OpenAI CLIP's quick_gelu is supported.`);
    if (tower.hidden_size % tower.num_attention_heads !== 0) {
      throw new ModelConfigError(`${file}: ${name}.hidden_size (${tower.hidden_size}) is not divisible by num_attention_heads (${tower.num_attention_heads}).`);
    }
  }
  if (v.image_size % v.patch_size !== 0)
    throw new ModelConfigError(`${file}: vision_config.image_size (${v.image_size}) is not a multiple of patch_size (${v.patch_size}).`);
  return {
    projectionDim: projection_dim,
    text: {
      width: t.hidden_size,
      mlp: t.intermediate_size,
      layers: t.num_hidden_layers,
      heads: t.num_attention_heads,
      eps: t.layer_norm_eps,
      vocabSize: t.vocab_size,
      contextLength: t.max_position_embeddings
    },
    vision: {
      width: v.hidden_size,
      mlp: v.intermediate_size,
      layers: v.num_hidden_layers,
      heads: v.num_attention_heads,
      eps: v.layer_norm_eps,
      imageSize: v.image_size,
      patchSize: v.patch_size,
      channels: v.num_channels
    }
  };
}

export function readClipConfig(dir: string): ClipConfig {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = readRegularTextFile(file);
  } catch (error) {
    throw new ModelConfigError(
      `${file}: cannot be read (${unreadableReason(error)}). A CLIP model folder needs config.json, model.safetensors, vocab.json and merges.txt.`
    );
  }
  let json: unknown;
  try {
    // A byte order mark (as some editors on Windows save) is not part of the JSON.
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new ModelConfigError(
      `${file}: is not valid JSON (${(error as Error).message}). The file is damaged or not a CLIP config.json; download the model again.`
    );
  }
  return parseClipConfig(json, file);
}

/** Every tensor the encoders need, with the shape the config implies. */
export function expectedTensors(config: ClipConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const tower = (prefix: string, c: TowerConfig) => {
    for (let i = 0; i < c.layers; i++) {
      const l = `${prefix}.encoder.layers.${i}`;
      for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
        shapes.set(`${l}.self_attn.${p}.weight`, [c.width, c.width]);
        shapes.set(`${l}.self_attn.${p}.bias`, [c.width]);
      }
      for (const n of ['layer_norm1', 'layer_norm2']) {
        shapes.set(`${l}.${n}.weight`, [c.width]);
        shapes.set(`${l}.${n}.bias`, [c.width]);
      }
      shapes.set(`${l}.mlp.fc1.weight`, [c.mlp, c.width]);
      shapes.set(`${l}.mlp.fc1.bias`, [c.mlp]);
      shapes.set(`${l}.mlp.fc2.weight`, [c.width, c.mlp]);
      shapes.set(`${l}.mlp.fc2.bias`, [c.width]);
    }
  };
  const { text: t, vision: v } = config;
  shapes.set('text_model.embeddings.token_embedding.weight', [t.vocabSize, t.width]);
  shapes.set('text_model.embeddings.position_embedding.weight', [t.contextLength, t.width]);
  tower('text_model', t);
  shapes.set('text_model.final_layer_norm.weight', [t.width]);
  shapes.set('text_model.final_layer_norm.bias', [t.width]);
  shapes.set('text_projection.weight', [config.projectionDim, t.width]);
  const grid = v.imageSize / v.patchSize;
  shapes.set('vision_model.embeddings.class_embedding', [v.width]);
  shapes.set('vision_model.embeddings.patch_embedding.weight', [v.width, v.channels, v.patchSize, v.patchSize]);
  shapes.set('vision_model.embeddings.position_embedding.weight', [grid * grid + 1, v.width]);
  shapes.set('vision_model.pre_layrnorm.weight', [v.width]);
  shapes.set('vision_model.pre_layrnorm.bias', [v.width]);
  tower('vision_model', v);
  shapes.set('vision_model.post_layernorm.weight', [v.width]);
  shapes.set('vision_model.post_layernorm.bias', [v.width]);
  shapes.set('visual_projection.weight', [config.projectionDim, v.width]);
  shapes.set('logit_scale', []);
  return shapes;
}
