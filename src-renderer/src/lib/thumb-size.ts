/**
 * Thumbnail sizing: tiles follow the images (a grid of 32 px images gets small tiles showing them
 * at 2×, not a 32 px speck in a 130 px box), and a small image is enlarged by a whole factor so its
 * pixels stay square and sharp (drawn with `image-rendering: pixelated`).
 */
export const TILE_SIZES = { small: 64, medium: 116, large: 160 } as const;
export type TileSize = 'auto' | keyof typeof TILE_SIZES;

/** The thumbnail box for images of these sizes (their longer sides): twice the median for tiny images, else the medium box. */
export function autoThumbBox(longerSides: readonly number[]): number {
  const sizes = longerSides.filter((s) => s > 0).sort((a, b) => a - b);
  if (sizes.length === 0) return TILE_SIZES.medium;
  const median = sizes[Math.floor((sizes.length - 1) / 2)]!;
  return Math.min(TILE_SIZES.medium, Math.max(TILE_SIZES.small, 2 * median));
}

export function thumbBox(size: TileSize, longerSides: readonly number[]): number {
  return size === 'auto' ? autoThumbBox(longerSides) : TILE_SIZES[size];
}

/**
 * How large to draw an image of width × height in a box: a larger image shrinks to fit; a smaller one
 * grows by the largest whole factor that fits (at least 1). `pixelated` when it is enlarged.
 */
export function fitImage(
  width: number,
  height: number,
  boxWidth: number,
  boxHeight = boxWidth
): { width: number; height: number; scale: number; pixelated: boolean } {
  if (!(width > 0 && height > 0)) return { width: boxWidth, height: boxHeight, scale: 1, pixelated: false };
  const fit = Math.min(boxWidth / width, boxHeight / height);
  const scale = fit >= 1 ? Math.max(1, Math.floor(fit)) : fit;
  return { width: Math.round(width * scale), height: Math.round(height * scale), scale, pixelated: scale >= 2 };
}
