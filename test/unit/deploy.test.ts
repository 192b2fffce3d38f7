import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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
