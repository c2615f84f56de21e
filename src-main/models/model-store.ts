/**
 * Installed CLIP models: a small JSON registry in the app's configuration folder. Downloaded models
 * live under <config>/models/<name>; imported folders are referenced where they are. Each model has
 * a content fingerprint (SHA-256 of its weights), which keys the project feature caches.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../contract/errors';
import { ModelInfo as ModelInfoSchema } from '../contract/schemas';
import { type ClipConfig, ModelConfigError, readClipConfig } from '../clip/config';
import { SafetensorsError, SafetensorsFile } from '../clip/safetensors';
import { ClipTokenizer, TokenizerError } from '../clip/tokenizer';
import { expectedTensors } from '../clip/config';

export const REQUIRED_MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];

/** A registry entry: the contract's model description without what is worked out when listing. */
const Entry = ModelInfoSchema.omit({ available: true, problem: true, summary: true });
export type ModelEntry = z.infer<typeof Entry>;
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function describeConfig(config: ClipConfig): string {
  const { vision: v, text: t } = config;
  return `ViT ${v.layers}×${v.width}, patch ${v.patchSize}, ${v.imageSize}px · text ${t.layers}×${t.width} · ${config.projectionDim}-d features`;
}

/** Checks a folder is a usable CLIP model (files, config, every tensor's shape) without loading weights. */
export function validateModelFolder(dir: string): ClipConfig {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new AppError('bad_source', `${dir} is not a folder. Choose a HuggingFace CLIP model folder.`);
  const absent = REQUIRED_MODEL_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (absent.length === REQUIRED_MODEL_FILES.length) {
    throw new AppError(
      'bad_source',
      `${dir} is not a CLIP model folder: it has none of ${REQUIRED_MODEL_FILES.join(', ')}. Choose the folder that holds them (a HuggingFace CLIP download).`
    );
  }
  if (absent.length)
    throw new AppError('bad_source', `${dir} is missing ${absent.join(', ')} (a CLIP model folder needs all of ${REQUIRED_MODEL_FILES.join(', ')}).`);
  let config: ClipConfig;
  try {
    config = readClipConfig(dir);
    const st = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    try {
      const expected = expectedTensors(config);
      for (const [name, shape] of expected) {
        const entry = st.entries.get(name);
        if (!entry) throw new AppError('bad_source', `${st.file}: tensor "${name}" is missing.`);
        if (entry.shape.join(',') !== shape.join(','))
          throw new AppError('bad_source', `${st.file}: tensor "${name}" has shape [${entry.shape}] but config.json implies [${shape}].`);
      }
      checkLayerCount(st, config);
      // Every weight is read once (as the fingerprint reads the file anyway): a damaged value (NaN, ±Infinity)
      // or an unreadable dtype is refused now, not when images are encoded later.
      for (const name of expected.keys()) st.readFloat32(name);
    } finally {
      st.close();
    }
    const tokenizer = ClipTokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'), { vocabSize: config.text.vocabSize });
    tokenizer.checkComplete(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'));
  } catch (error) {
    if (error instanceof ModelConfigError || error instanceof SafetensorsError || error instanceof TokenizerError)
      throw new AppError('bad_source', error.message);
    throw error;
  }
  return config;
}

/**
 * Encoder layers in the weights beyond config.json's num_hidden_layers would be ignored silently, giving a
 * different (wrong) model: refused, naming both files.
 */
function checkLayerCount(st: SafetensorsFile, config: ClipConfig): void {
  for (const [tower, layers] of [
    ['text', config.text.layers],
    ['vision', config.vision.layers]
  ] as const) {
    const prefix = `${tower}_model.encoder.layers.`;
    let highest = -1;
    for (const name of st.entries.keys()) {
      if (!name.startsWith(prefix)) continue;
      const index = Number(name.slice(prefix.length).split('.')[0]);
      if (Number.isInteger(index)) highest = Math.max(highest, index);
    }
    if (highest >= layers) {
      throw new AppError(
        'bad_source',
        `${st.file} has ${highest + 1} ${tower} encoder layers, but config.json ${tower}_config.num_hidden_layers is ${layers}: the two files do not belong together. Use the config.json of the same CLIP model.`
      );
    }
  }
}

const slug = (name: string) =>
  name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80) || 'model';

export class ModelStore {
  readonly root: string;
  private readonly registry: string;

  constructor(configDir: string) {
    this.root = path.join(configDir, 'models');
    this.registry = path.join(this.root, 'models.json');
  }

  private read(): ModelEntry[] {
    try {
      const parsed = z.array(Entry).safeParse(JSON.parse(fs.readFileSync(this.registry, 'utf8')));
      return parsed.success ? parsed.data : [];
    } catch {
      return [];
    }
  }

  private write(entries: ModelEntry[]): void {
    fs.mkdirSync(this.root, { recursive: true });
    const tmp = `${this.registry}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(entries, null, 2));
    fs.renameSync(tmp, this.registry);
  }

  list(): ModelInfo[] {
    return this.read().map((entry) => {
      try {
        const config = readClipConfig(entry.dir);
        const present = REQUIRED_MODEL_FILES.every((f) => fs.existsSync(path.join(entry.dir, f)));
        return { ...entry, available: present, summary: describeConfig(config), problem: present ? undefined : `files missing in ${entry.dir}` };
      } catch (error) {
        return { ...entry, available: false, problem: (error as Error).message };
      }
    });
  }

  get(idOrName: string): ModelInfo {
    const found = this.list().find((m) => m.id === idOrName || m.name === idOrName);
    if (!found)
      throw new AppError(
        'not_found',
        `No installed model "${idOrName}". Download or import one first (installed: ${
          this.read()
            .map((m) => m.name)
            .join(', ') || 'none'
        }).`
      );
    if (!found.available) throw new AppError('unavailable', `Model "${found.name}" cannot be used: ${found.problem}.`);
    return found;
  }

  /** A folder for a new download of `repo`. */
  downloadDir(repo: string): string {
    return path.join(this.root, slug(repo));
  }

  async register(dir: string, options: { name?: string; source: 'hub' | 'import'; repo?: string; sha256?: string }): Promise<ModelInfo> {
    const abs = path.resolve(dir);
    const config = validateModelFolder(abs);
    const weights = path.join(abs, 'model.safetensors');
    const sha256 = options.sha256 ?? (await sha256File(weights));
    const name = options.name ?? options.repo ?? path.basename(abs);
    const entry: ModelEntry = {
      id: `${slug(name)}@${sha256.slice(0, 12)}`,
      name,
      dir: abs,
      source: options.source,
      repo: options.repo,
      sha256,
      bytes: fs.statSync(weights).size,
      addedAt: new Date().toISOString()
    };
    this.write([...this.read().filter((e) => e.dir !== abs && e.id !== entry.id), entry]);
    return { ...entry, available: true, summary: describeConfig(config) };
  }

  remove(id: string): void {
    const entries = this.read();
    const entry = entries.find((e) => e.id === id);
    if (!entry) throw new AppError('not_found', `No installed model "${id}".`);
    this.write(entries.filter((e) => e.id !== id));
    if (entry.source === 'hub' && entry.dir.startsWith(this.root + path.sep)) fs.rmSync(entry.dir, { recursive: true, force: true });
  }
}
