/**
 * The numbers of every MTU fix hopscope gives (fragment.outer, mtu.overlay-exceeds-underlay):
 * the largest overlay MTU the underlay carries, the underlay MTU the overlay needs, and the MSS
 * to clamp to. One function, so every finding says the same numbers.
 */

/** TCP timestamps (10 bytes, padded to 12) ride in every segment of a Linux flow. */
const TCP_TIMESTAMPS = 12;

export interface MtuAdvice {
  /** Largest guest/overlay MTU whose packets fit the underlay after encapsulation. */
  maxOverlayMtu: number;
  /** Underlay MTU that carries the overlay's largest packets whole. */
  needed: number;
  /** MSS to clamp to, and the TCP payload per segment that leaves with timestamps. */
  clampMss: number;
  clampPayload: number;
}

/**
 * @param underlayMtu the underlay's IP MTU
 * @param overhead    bytes the tunnel adds to an inner IP packet (50 for VXLAN over IPv4)
 * @param overlaySize the largest inner IP packet the overlay sends (its MTU)
 * @param innerHeaders inner IP + TCP header bytes without options (40 for IPv4, 60 for IPv6)
 */
export function mtuAdvice(
  underlayMtu: number,
  overhead: number,
  overlaySize: number,
  innerHeaders: number,
): MtuAdvice {
  const maxOverlayMtu = underlayMtu - overhead;
  const clampMss = maxOverlayMtu - innerHeaders;
  return { maxOverlayMtu, needed: overlaySize + overhead, clampMss, clampPayload: clampMss - TCP_TIMESTAMPS };
}

/** The names of MtuAdvice's fields: facts derived, not seen (marked so in the JSON). */
export const MTU_ADVICE_FACTS = ['maxOverlayMtu', 'needed', 'clampMss', 'clampPayload'] as const;
