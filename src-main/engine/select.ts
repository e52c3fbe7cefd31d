// Selection without a full sort: quickselect (Hoare partition, median-of-three pivot), used where
// only the k-th value or the k largest values of a long array matter — the k-NN radii of
// precision/recall (generation/precision-recall.ts) and the top-k % score of a stitched map
// (inspect/tiles.ts).

/**
 * Reorders `a` in place so that `a[index]` holds the value a full ascending sort would put there,
 * every value before it is ≤ it and every value after it is ≥ it.
 */
export function selectInPlace(a: Float32Array | Float64Array, index: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const [p0, p1, p2] = [a[lo], a[mid], a[hi]];
    const pivot = p0 < p1 ? (p1 < p2 ? p1 : p0 < p2 ? p2 : p0) : p0 < p2 ? p0 : p1 < p2 ? p2 : p1;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (index <= j) hi = j;
    else if (index >= i) lo = i;
    else return;
  }
}
