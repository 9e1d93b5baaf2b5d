/**
 * A value graph as JSON and back: what structured cloning keeps (Maps, Sets, typed arrays, NaN,
 * infinities, -0, undefined, objects shared between places) in plain JSON, so a hop's state can
 * cross the network in a documented text form (GET /hops) and come out as the same graph.
 *
 * The layout is devalue's (Svelte): the document is an array of nodes, node 0 the root; a node
 * refers to others by their index, so a shared object is written once and comes back shared.
 *
 *   number, string, boolean, null   the value itself
 *   [i, j, ...]                      an array (its elements' nodes)
 *   {"k": i, ...}                    a plain object (its properties' nodes)
 *   ["Map", k1, v1, k2, v2, ...]     a Map; ["Set", i, ...] a Set
 *   ["f64", base64]                  an array of numbers only, as little-endian float64s (exact,
 *                                    NaN kept; a hop's trace samples are long arrays of numbers)
 *   ["Uint8Array", base64]           and the other typed arrays by their constructor's name
 *
 * and in place of an index: -1 undefined, -2 NaN, -3 Infinity, -4 -Infinity, -5 -0.
 *
 * Decoding trusts nothing: indices and tags are checked (GraphJsonError), and `__proto__` keys
 * become plain properties (never the prototype).
 */

const UNDEFINED = -1;
const NAN = -2;
const POSITIVE_INFINITY = -3;
const NEGATIVE_INFINITY = -4;
const NEGATIVE_ZERO = -5;

type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

const TYPED: Record<string, new (buffer: ArrayBuffer) => TypedArray> = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
};

export type GraphJson = unknown[];

export class GraphJsonError extends Error {}

function special(value: number): number | null {
  if (Number.isNaN(value)) return NAN;
  if (value === Number.POSITIVE_INFINITY) return POSITIVE_INFINITY;
  if (value === Number.NEGATIVE_INFINITY) return NEGATIVE_INFINITY;
  if (value === 0 && 1 / value < 0) return NEGATIVE_ZERO;
  return null;
}

function bytesOf(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

/** At least this many numbers make an array worth packing as float64s. */
const PACK_FROM = 8;

function packable(array: readonly unknown[]): boolean {
  if (array.length < PACK_FROM) return false;
  for (let i = 0; i < array.length; i++) if (typeof array[i] !== 'number') return false;
  return true;
}

/** The graph below `root` as a JSON-able array of nodes. Functions and symbols are refused. */
export function encodeGraph(root: unknown): GraphJson {
  const nodes: unknown[] = [];
  const seen = new Map<object, number>();
  // Primitives are not shared by identity, but equal strings may as well be written once.
  const strings = new Map<string, number>();

  const ref = (value: unknown): number => {
    if (value === undefined) return UNDEFINED;
    if (typeof value === 'number') {
      const s = special(value);
      if (s !== null) return s;
      nodes.push(value);
      return nodes.length - 1;
    }
    if (typeof value === 'string') {
      let index = strings.get(value);
      if (index === undefined) {
        index = nodes.push(value) - 1;
        strings.set(value, index);
      }
      return index;
    }
    if (value === null || typeof value === 'boolean') return nodes.push(value) - 1;
    if (typeof value !== 'object') throw new GraphJsonError(`cannot encode a ${typeof value}`);
    const known = seen.get(value);
    if (known !== undefined) return known;
    const index = nodes.push(null) - 1;
    seen.set(value, index);
    if (ArrayBuffer.isView(value)) {
      const name = value.constructor.name;
      if (!(name in TYPED)) throw new GraphJsonError(`cannot encode a ${name}`);
      nodes[index] = [name, bytesOf(value)];
    } else if (Array.isArray(value)) {
      if (packable(value)) {
        nodes[index] = ['f64', bytesOf(Float64Array.from(value as number[]))];
      } else {
        const out: number[] = [];
        nodes[index] = out;
        for (const item of value) out.push(ref(item));
      }
    } else if (value instanceof Map) {
      const out: unknown[] = ['Map'];
      nodes[index] = out;
      for (const [k, v] of value) out.push(ref(k), ref(v));
    } else if (value instanceof Set) {
      const out: unknown[] = ['Set'];
      nodes[index] = out;
      for (const v of value) out.push(ref(v));
    } else {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        throw new GraphJsonError(`cannot encode a ${proto?.constructor?.name ?? 'class instance'}`);
      const out: Record<string, number> = {};
      nodes[index] = out;
      for (const [k, v] of Object.entries(value)) out[k] = ref(v);
    }
    return index;
  };
  ref(root);
  return nodes;
}

function fromBase64(text: unknown, what: string): Uint8Array {
  if (typeof text !== 'string') throw new GraphJsonError(`${what}: bytes are not base64 text`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function aligned(bytes: Uint8Array, unit: number, what: string): ArrayBuffer {
  if (bytes.byteLength % unit !== 0)
    throw new GraphJsonError(`${what}: ${bytes.byteLength} bytes is not whole`);
  // A copy of its own: the result owns its buffer, at offset 0, as the typed array expects.
  return bytes.slice().buffer;
}

/** The graph back from `encodeGraph`'s nodes. Throws GraphJsonError on anything malformed. */
export function decodeGraph(nodes: unknown): unknown {
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw new GraphJsonError('not a graph: expected an array of nodes');
  // Every container is registered before its contents are decoded, so cycles come back as cycles.
  const made = new Map<number, unknown>();

  const value = (index: unknown): unknown => {
    if (typeof index !== 'number' || !Number.isInteger(index))
      throw new GraphJsonError(`bad reference ${JSON.stringify(index)}`);
    switch (index) {
      case UNDEFINED:
        return undefined;
      case NAN:
        return Number.NaN;
      case POSITIVE_INFINITY:
        return Number.POSITIVE_INFINITY;
      case NEGATIVE_INFINITY:
        return Number.NEGATIVE_INFINITY;
      case NEGATIVE_ZERO:
        return -0;
    }
    if (index < 0 || index >= nodes.length) throw new GraphJsonError(`reference ${index} out of range`);
    if (made.has(index)) return made.get(index);
    const node: unknown = nodes[index];
    if (node === null || typeof node !== 'object') {
      made.set(index, node);
      return node;
    }
    let out: unknown;
    if (Array.isArray(node)) {
      const tag: unknown = node[0];
      if (typeof tag !== 'string') {
        const array: unknown[] = [];
        made.set(index, array);
        for (const item of node) array.push(value(item));
        out = array;
      } else if (tag === 'Map') {
        const map = new Map<unknown, unknown>();
        made.set(index, map);
        for (let i = 1; i + 1 < node.length; i += 2) map.set(value(node[i]), value(node[i + 1]));
        out = map;
      } else if (tag === 'Set') {
        const set = new Set<unknown>();
        made.set(index, set);
        for (let i = 1; i < node.length; i++) set.add(value(node[i]));
        out = set;
      } else if (tag === 'f64') {
        const bytes = fromBase64(node[1], `node ${index}`);
        out = Array.from(new Float64Array(aligned(bytes, 8, `node ${index}`)));
        made.set(index, out);
      } else {
        const Typed = Object.hasOwn(TYPED, tag) ? TYPED[tag] : undefined;
        if (Typed === undefined)
          throw new GraphJsonError(`node ${index}: unknown tag ${JSON.stringify(tag)}`);
        const bytes = fromBase64(node[1], `node ${index}`);
        const unit = (Typed as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
        out = new Typed(aligned(bytes, unit, `node ${index}`));
        made.set(index, out);
      }
    } else {
      const object: Record<string, unknown> = {};
      made.set(index, object);
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        // defineProperty: a key named __proto__ stays data, as JSON.parse made it.
        Object.defineProperty(object, k, {
          value: value(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      out = object;
    }
    return out;
  };
  return value(0);
}
