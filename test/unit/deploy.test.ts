import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_GAUGES } from '../../src/metrics/instrument.js';
import { ServerMetrics } from '../../src/metrics/metrics.js';

const deploy = (...p: string[]): string => readFileSync(join(import.meta.dirname, '..', '..', 'deploy', ...p), 'utf8');

describe('deploy/ probes the server the way test/e2e/health.test.ts checks it answers', () => {
  it('Kubernetes: readiness on /readyz, liveness and start-up on /healthz, over HTTP', () => {
    const k8s = deploy('kubernetes', 'fleetjobs.yaml');
    expect(k8s).toMatch(/readinessProbe:\s+httpGet: \{ path: \/readyz, port: http \}/);
    expect(k8s).toMatch(/livenessProbe:\s+httpGet: \{ path: \/healthz, port: http \}/);
    expect(k8s).toMatch(/startupProbe:[^\n]*\n\s+httpGet: \{ path: \/healthz, port: http \}/);
    expect(k8s).not.toContain('tcpSocket');
  });

  it('compose: each replica is healthy when /readyz answers, and the balancer checks /readyz', () => {
    const compose = deploy('compose', 'docker-compose.yml');
    expect(compose).toContain("fetch('http://127.0.0.1:8080/readyz')");
    expect(compose).toMatch(/fleetjobs: \{ condition: service_healthy \}/);
    const haproxy = deploy('compose', 'haproxy.cfg');
    const servers = haproxy.split('\n').filter((l) => l.trim().startsWith('server-template'));
    expect(servers).toHaveLength(3);
    for (const s of servers) expect(s).toContain('check port 8080');
    expect(haproxy.match(/option httpchk GET \/readyz/g)).toHaveLength(3);
  });
});

describe('deploy/grafana/fleetjobs.json', () => {
  const dashboard = JSON.parse(deploy('grafana', 'fleetjobs.json')) as {
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('queries only metrics the server exports, and every fleetjobs metric it exports', async () => {
    const exported = new Set([
      ...(await new ServerMetrics().registry.getMetricsAsJSON()).map((m) => m.name),
      ...Object.values(STATE_GAUGES),
    ]);
    const used = new Set(
      exprs
        .flatMap((e) => e.match(/\b(?:fleetjobs|process|nodejs)_[a-z0-9_]+/g) ?? [])
        .map((n) => n.replace(/_(bucket|sum|count)$/, '')),
    );
    for (const name of used) expect(exported, name).toContain(name);
    for (const name of [...exported].filter((n) => n.startsWith('fleetjobs_'))) expect(used, name).toContain(name);
  });

  it('has a title and at least one query on every panel but the rows', () => {
    for (const p of dashboard.panels.filter((p) => p.type !== 'row'))
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });
});

describe('deploy/ leaves room for a fleet of connections (one open file each)', () => {
  it('systemd and compose raise the open-file limit', () => {
    expect(deploy('systemd', 'fleetjobs.service')).toMatch(/^LimitNOFILE=(\d{6,})$/m);
    expect(deploy('compose', 'docker-compose.yml')).toMatch(/nofile: \{ soft: 200000, hard: 200000 \}/);
  });
});
