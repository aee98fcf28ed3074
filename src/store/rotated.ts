/**
 * `items` starting at position `turn` (mod its length), wrapping around: claims start with a
 * different account each time, so the leftover of an uneven share is not always the same one's.
 */
export const rotated = <T>(items: readonly T[], turn: number): T[] => {
  const at = items.length === 0 ? 0 : turn % items.length;
  return [...items.slice(at), ...items.slice(0, at)];
};
