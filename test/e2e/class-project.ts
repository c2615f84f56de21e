/** What the specs on a project of many classes share: the class names, their image folder, and API calls from the page. */
import path from 'node:path';
import type { Page } from '@playwright/test';
import { makeImage } from '../helpers/images';

/** 24 everyday classes: CIFAR-10's ten, then fourteen more (one of two words). */
export const EVERYDAY_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
  'apple',
  'bee',
  'bicycle',
  'bridge',
  'butterfly',
  'camel',
  'castle',
  'clock',
  'cloud',
  'golden retriever',
  'lamp',
  'maple',
  'rose',
  'tulip'
];

/**
 * An ImageFolder tree: `count(name)` square PNGs of `size` pixels per class, named 0.png, 1.png, …,
 * class after class in the order given, with seeds counting up from `seed`.
 */
export async function classImageFolder(
  root: string,
  classes: string[],
  count: (name: string) => number,
  options: { seed: number; size: number }
): Promise<void> {
  let seed = options.seed;
  for (const name of classes) {
    for (let i = 0, n = count(name); i < n; i++) await makeImage(path.join(root, name, `${i}.png`), seed++, { width: options.size, height: options.size });
  }
}

/** Calls the app's API from the page (the same requests the UI makes); an error envelope throws. */
export async function api(page: Page, name: string, input?: unknown): Promise<any> {
  const envelope = await page.evaluate(
    async ([n, i]) =>
      (await fetch(`api/${n}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: i === undefined ? '' : JSON.stringify(i) })).json(),
    [name, input] as const
  );
  if (!envelope.ok) throw new Error(`${name}: ${envelope.error.message}`);
  return envelope.value;
}
