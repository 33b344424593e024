// Weighted random choice: the one implementation every split uses.

export function weightedPick<T extends { readonly weight: number }>(items: readonly T[], random: () => number = Math.random): T {
  if (items.length === 1) return items[0] as T;
  let total = 0;
  for (const item of items) total += item.weight;
  let r = random() * total;
  for (const item of items) {
    r -= item.weight;
    if (r < 0) return item;
  }
  // Floating-point leftovers land on the last item rather than on nothing.
  return items[items.length - 1] as T;
}
