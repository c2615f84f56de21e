import fs from 'node:fs/promises';
import path from 'node:path';
import type { AppServices } from './app-services';

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.jfif': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif'
};

export type MediaKind = 'thumb' | 'image';

/**
 * Serves only what the open project has registered: a thumbnail from the database or the original
 * file of an image id. Nothing else on disk is reachable through a media URL.
 */
export async function loadMedia(services: AppServices, kind: string, rawId: string): Promise<{ mime: string; data: Buffer } | null> {
  const store = services.openProject;
  const id = Number(rawId);
  if (!store || !Number.isInteger(id) || id <= 0) return null;
  if (kind === 'thumb') return store.thumbnail(id) ?? null;
  if (kind !== 'image') return null;
  const file = store.imagePath(id);
  if (!file) return null;
  try {
    return { mime: MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream', data: await fs.readFile(file) };
  } catch {
    return null;
  }
}
