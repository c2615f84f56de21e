/**
 * Where the test fixtures live: ../shared/fixtures beside the repository (tiny CLIP models in the
 * HuggingFace layout with reference outputs from an independent PyTorch implementation, and the real
 * CLIP tokenizer files). Resolved from this file, not from the working directory. When the folder is
 * absent, test/vitest.config.mts leaves out every test file that imports this module and says why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
export const FIXTURES_DIR = path.join(SHARED_DIR, 'fixtures');

/** A path inside ../shared/fixtures. */
export function fixturePath(...parts: string[]): string {
  return path.join(FIXTURES_DIR, ...parts);
}

/** The tiny CLIP model (HF layout: config.json, model.safetensors, vocab.json, merges.txt, expected.json). */
export const TINY_CLIP = fixturePath('tiny-clip-a');
/** The real CLIP tokenizer files and a corpus of strings with their expected ids. */
export const TOKENIZER_FIXTURE = fixturePath('tokenizer');

/** Why fixture-based tests cannot run here, or null when the fixtures are present. */
export function fixturesMissingReason(): string | null {
  return fs.existsSync(path.join(TINY_CLIP, 'config.json'))
    ? null
    : `the test fixtures are not at ${FIXTURES_DIR} (they live in ../shared/fixtures beside the repository)`;
}
