// What untrusted JSON must satisfy before herald hashes, stores or renders it: bounded nesting
// (recursive code must not overflow), finite numbers (1e400 parses to Infinity) and well-formed
// strings (a lone UTF-16 surrogate has no canonical form).
export const MAX_JSON_DEPTH = 32;

/** Why `value` cannot be accepted, or null when it can. Iterative, so hostile input cannot overflow it. */
export function jsonValueProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return 'strings may not contain lone UTF-16 surrogates';
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'numbers must be finite';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return `values may nest at most ${maxDepth} levels deep`;
    if (Array.isArray(v)) {
      for (const child of v) stack.push([child, depth + 1]);
    } else {
      for (const [k, child] of Object.entries(v as object)) {
        if (!k.isWellFormed()) return 'keys may not contain lone UTF-16 surrogates';
        stack.push([child, depth + 1]);
      }
    }
  }
  return null;
}
