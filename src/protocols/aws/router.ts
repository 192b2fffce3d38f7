/**
 * A small route table for one AWS service. Path labels are `{name}` (one segment) or `{name+}`
 * (the rest of the path, S3 keys). Static segments outrank labels, so
 * `PUT /thing-groups/addThingToThingGroup` wins over `PUT /thing-groups/{thingGroupName}`.
 */
export interface RouteMatch<H> {
  handler: H;
  operation: string;
  params: Record<string, string>;
}

interface Route<H> {
  method: string;
  segments: string[];
  operation: string;
  handler: H;
  score: number;
}

function decodeLabel(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export class RouteTable<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, template: string, operation: string, handler: H): this {
    const segments = template.split('/').filter((s) => s !== '');
    const score = segments.reduce((n, s) => n * 2 + (s.startsWith('{') ? 0 : 1), 1);
    this.routes.push({ method, segments, operation, handler, score });
    this.routes.sort((a, b) => b.segments.length - a.segments.length || b.score - a.score);
    return this;
  }

  /** Matches a raw (still percent-encoded) path; labels are decoded (spec 1.3). */
  match(method: string, rawPath: string): RouteMatch<H> | undefined {
    const parts = rawPath.split('/').filter((s) => s !== '');
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params = matchSegments(route.segments, parts);
      if (params) return { handler: route.handler, operation: route.operation, params };
    }
    return undefined;
  }

  /** Whether any method serves this path (to tell 405-like misses from unknown paths). */
  hasPath(rawPath: string): boolean {
    const parts = rawPath.split('/').filter((s) => s !== '');
    return this.routes.some((r) => matchSegments(r.segments, parts) !== undefined);
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    if (t.startsWith('{') && t.endsWith('+}')) {
      if (i >= parts.length) return undefined;
      params[t.slice(1, -2)] = parts.slice(i).map(decodeLabel).join('/');
      return params;
    }
    const p = parts[i];
    if (p === undefined) return undefined;
    if (t.startsWith('{')) params[t.slice(1, -1)] = decodeLabel(p);
    else if (t !== p) return undefined;
  }
  return template.length === parts.length ? params : undefined;
}
