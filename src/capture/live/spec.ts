/**
 * An interface to capture on, as `-i` or `--follow` name it: `IF` in hopscope's own network
 * namespace, or `NETNS/IF` in the named namespace (`ip netns` names, /var/run/netns/NETNS). A slash
 * cannot clash with an interface name: Linux refuses '/' in interface names (dev_valid_name), and
 * `ip netns` refuses it in namespace names. The spec as typed is the hop's name in the report.
 */

import { UsageError } from '../../errors.js';

export interface InterfaceSpec {
  /** The namespace (`ip netns` name), or null for hopscope's own. */
  netns: string | null;
  device: string;
  /** The hop name: the spec as given. */
  label: string;
}

/** Linux's limit on interface names (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

export function parseInterfaceSpec(value: string, option = '-i'): InterfaceSpec {
  const parts = value.split('/');
  if (parts.length > 2)
    throw new UsageError(
      `${option} ${value}: one slash at most (NETNS/INTERFACE); interface names hold none`,
    );
  const [first = '', second] = parts;
  const netns = second === undefined ? null : first;
  const device = second === undefined ? first : second;
  if (netns !== null && (netns === '' || netns === '.' || netns === '..'))
    throw new UsageError(
      `${option} ${value}: NETNS/INTERFACE needs a network namespace name before the slash`,
    );
  if (
    device === '' ||
    device.length > IFNAME_MAX ||
    /[\s:]/.test(device) ||
    device === '.' ||
    device === '..'
  )
    throw new UsageError(
      `${option} ${value}: not an interface name (1 to ${IFNAME_MAX} characters, no spaces, slashes or colons)`,
    );
  return { netns, device, label: value };
}
