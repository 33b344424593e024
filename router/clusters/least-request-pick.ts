// Least outstanding requests, ties broken at random so equal endpoints share load evenly.
// (The fleet issue replaces this with the filter → scorer → picker scheduler.)

export function pickLeastRequest<E>(endpoints: readonly E[], inFlight: (ep: E) => number): E | undefined {
  let best: E | undefined;
  let bestLoad = Infinity;
  let ties = 0;
  for (const ep of endpoints) {
    const load = inFlight(ep);
    if (load < bestLoad) {
      best = ep;
      bestLoad = load;
      ties = 1;
    } else if (load === bestLoad) {
      // Reservoir sampling over the tied endpoints: each has probability 1/ties.
      ties += 1;
      if (Math.random() * ties < 1) best = ep;
    }
  }
  return best;
}
