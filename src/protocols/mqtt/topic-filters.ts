/**
 * MQTT topic-filter algebra for authorization. Levels are split on '/'; '+' is one level, '#'
 * the rest (including the parent level, MQTT 4.7.1.2).
 */

export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // MQTT 4.7.2: wildcards in the first level never match topics starting with '$'.
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * True when every topic `requested` can match is also matched by `allowed`, so a subscription
 * can never reach beyond what the allowed filter grants (a '+' or '#' in the request must be
 * met by a wildcard at the same level of the allowed filter).
 */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  for (let i = 0; i < r.length; i++) {
    const al = a[i];
    const rl = r[i]!;
    if (al === '#') return true;
    if (al === undefined) return false;
    if (rl === '#') return false;
    if (al === '+') continue;
    if (rl === '+' || rl !== al) return false;
  }
  // A request that ends where a trailing '#' of the allowed filter starts is covered too.
  return a.length === r.length || (a.length === r.length + 1 && a[r.length] === '#');
}
