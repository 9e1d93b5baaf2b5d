/**
 * Fields that start as small integers and later hold times, byte counts or 32-bit numbers are
 * created as doubles (DOUBLE_FIELD), then set to their starting value, which keeps them doubles.
 *
 * Why: V8 stores a field that has only held small integers (31 bits) as one. The first fraction
 * or 32-bit value stored in it changes the field's representation and with it the object's hidden
 * class; objects made later get the new class, and every piece of optimised code that relied on
 * the old one is thrown away. On the hot path that happened at each new capture file's first
 * frames (a new hop's state, a new flow's trace, a new source's packet): the whole per-frame path
 * was compiled again while frames ran unoptimised, ~20 ms a file (seen with node
 * --trace-generalization and --trace-deopt).
 */
export const DOUBLE_FIELD = 0.5;
