const PALETTE = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#0b7285', '#e67700', '#c2255c', '#5c940d', '#1864ab', '#862e9c', '#a61e4d', '#087f5b'];

/** A stable colour per class id, so a class keeps its colour when others are added or removed. */
export function classColor(id: number): string {
  return PALETTE[(id - 1) % PALETTE.length]!;
}
