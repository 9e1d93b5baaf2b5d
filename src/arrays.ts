/**
 * Arrays and byte views the hot path keeps for its whole life, and how it keeps them cheap.
 */

/**
 * Shortens `values` to `length` by popping; lengthen it again by writing at its end.
 *
 * Why: V8 keeps an array's backing store when it pops, but setting `length` (or splicing) gives
 * back what lies past half of it (all of it for 0), and the writes that fill the array again
 * allocate a new one. An array that is emptied and refilled again and again on the hot path (a
 * trace's sample at each thinning, the reassembler's frame list at each datagram) was allocated
 * anew each time: 14 MB over the bench's ten hops for the samples, and a call into the runtime
 * per fragment for the frame list.
 */
export function truncate(values: unknown[], length: number): void {
  while (values.length > length) values.pop();
}

/**
 * A DataView over exactly the bytes of `bytes` (same indexes), cached for the last two arrays
 * seen: the reader alternates between its chunk buffers (and a carry buffer), so a view is made
 * once per chunk, never per packet (the checksums and the reassembler's copies read through it).
 */
let viewBytes0: Uint8Array | null = null;
let view0: DataView | null = null;
let viewBytes1: Uint8Array | null = null;
let view1: DataView | null = null;
export function viewOf(bytes: Uint8Array): DataView {
  if (bytes === viewBytes0) return view0 as DataView;
  if (bytes === viewBytes1) {
    // Swap, so the most recent array is checked first.
    viewBytes1 = viewBytes0;
    viewBytes0 = bytes;
    const v = view1 as DataView;
    view1 = view0;
    view0 = v;
    return v;
  }
  viewBytes1 = viewBytes0;
  view1 = view0;
  viewBytes0 = bytes;
  view0 = dataViewOf(bytes);
  return view0;
}

/** A new DataView over exactly the bytes of `bytes` (same indexes): for arrays kept with their view. */
export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
