import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { DescribeThingCommand } from '@aws-sdk/client-iot';
import { FakeClock } from '../../src/clock.js';
import { SESSION_LIMITS, SIGN_IN_LIMITS } from '../../src/console/auth.service.js';
import { adminConsole, ConsoleClient } from '../helpers/console.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

/** A SigV4-signed request, as an AWS client sends it (service s3: ListBuckets is GET /). */
async function signedFetch(t: TestServer, method: string, path: string): Promise<Response> {
  const url = new URL(path, t.endpoint);
  const signer = new SignatureV4({
    credentials: t.credentials,
    region: TEST_REGION,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    }),
  );
  return fetch(url, { method, headers: signed.headers as Record<string, string> });
}

describe.each(DIALECTS)('console API on %s', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
  });
  afterAll(async () => t?.stop());

  it('creates the admin account on first start with a generated password', () => {
    expect(t.server.consoleAdmin.username).toBe('admin');
    expect(t.server.consoleAdmin.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('serves the single page at / with a strict content security policy', async () => {
    const res = await fetch(`${t.endpoint}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toMatch(/<html/i);
  });

  it('refuses asset paths that try to leave the assets folder', async () => {
    for (const path of ['/assets/..%2F..%2Fpackage.json', '/assets/.hidden', '/assets/nope.js']) {
      const res = await fetch(`${t.endpoint}${path}`);
      expect(res.status, path).toBe(404);
    }
  });

  it('hands SigV4-signed requests to the AWS dispatcher whatever the path', async () => {
    for (const path of ['/', '/assets/x.js', '/console/api/things']) {
      const res = await signedFetch(t, 'GET', path);
      expect(res.headers.get('x-amzn-requestid'), path).toBeTruthy();
      expect(res.headers.get('content-type') ?? '', path).not.toMatch(/text\/html/);
      expect(res.headers.get('set-cookie'), path).toBeNull();
    }
  });

  it('answers 401 to every console API route when signed out', async () => {
    const c = ConsoleClient.for(t);
    for (const [method, path] of [
      ['GET', '/session'],
      ['GET', '/things'],
      ['POST', '/things'],
      ['GET', '/groups/g1'],
      ['DELETE', '/session'],
      ['GET', '/no-such-route'],
    ] as const) {
      const res = await c.request(method, path, method === 'GET' ? undefined : {});
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.code).toBe('UnauthorizedException');
    }
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const c = ConsoleClient.for(t);
    const wrong = await c.signIn('admin', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('The user name or password is wrong.');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const unknown = await c.signIn('mallory', 'whatever-password');
    expect(unknown.status).toBe(401);
    expect(unknown.body.message).toBe(wrong.body.message);
    const missing = await c.request('POST', '/session', { username: 'admin' });
    expect(missing.status).toBe(400);
    expect(missing.body.fieldErrors).toEqual([{ field: 'password', message: expect.stringContaining('null') }]);
  });

  it('signs in with an HttpOnly SameSite=Strict session cookie and a readable CSRF cookie', async () => {
    const c = ConsoleClient.for(t);
    const res = await c.signIn('admin', t.server.consoleAdmin.generatedPassword!);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ username: 'admin', account: '000000000000', region: 'us-east-1' });
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((l) => l.startsWith('fj_session='))!;
    const csrf = cookies.find((l) => l.startsWith('fj_csrf='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).not.toMatch(/; Secure/); // plain http here
    expect(csrf).not.toMatch(/HttpOnly/);
    expect(decodeURIComponent(csrf.split(';')[0]!.slice('fj_csrf='.length))).toBe(res.body.csrfToken);
    const me = await c.get('/session');
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('admin');
  });

  it('ends the previous session of a browser that signs in again', async () => {
    const c = await adminConsole(t);
    const before = new Map(c.cookies);
    expect((await c.signIn('admin', t.server.consoleAdmin.generatedPassword!)).status).toBe(200);
    expect(c.cookies.get('fj_session')).not.toBe(before.get('fj_session'));
    const old = new ConsoleClient(t.endpoint);
    for (const [k, v] of before) old.cookies.set(k, v);
    expect((await old.get('/session')).status).toBe(401);
    expect((await c.get('/session')).status).toBe(200);
  });

  it('refuses every change without the CSRF token of the session', async () => {
    const c = await adminConsole(t);
    const other = await adminConsole(t);
    for (const csrf of [null, '', 'x'.repeat(43), other.csrfToken!]) {
      const res = await c.request('POST', '/things', { thingName: 'csrf-thing' }, { csrf });
      expect(res.status, String(csrf)).toBe(403);
      expect(res.body.code).toBe('AccessDeniedException');
    }
    expect((await c.get('/things/csrf-thing')).status).toBe(404);
    const ok = await c.post('/things', { thingName: 'csrf-thing' });
    expect(ok.status).toBe(200);
  });

  it('refuses a change sent as a form (not JSON)', async () => {
    const c = await adminConsole(t);
    const res = await c.request('POST', '/things', undefined, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    // An empty body is fine; a form body is not.
    expect(res.status).toBe(400);
    const form = await fetch(`${t.endpoint}/console/api/things`, {
      method: 'POST',
      headers: {
        cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        'x-csrf-token': c.csrfToken!,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'thingName=form-thing',
    });
    expect(form.status).toBe(400);
  });

  it('calls the same registry service as the AWS API', async () => {
    const c = await adminConsole(t);
    expect((await c.post('/things', { thingName: 'console-dev-1' })).status).toBe(200);
    expect((await c.post('/groups', { thingGroupName: 'console-group' })).status).toBe(200);
    expect((await c.post('/groups/console-group/things', { thingName: 'console-dev-1' })).status).toBe(200);
    const viaSdk = await t.iot().send(new DescribeThingCommand({ thingName: 'console-dev-1' }));
    expect(viaSdk.thingName).toBe('console-dev-1');
    const thing = await c.get<{ thing: { thingName: string }; thingGroups: { groupName: string }[] }>(
      '/things/console-dev-1',
    );
    expect(thing.body.thingGroups.map((g) => g.groupName)).toEqual(['console-group']);
    const members = await c.get<{ things: string[] }>('/groups/console-group/things');
    expect(members.body.things).toEqual(['console-dev-1']);
    const search = await c.get<{ things: { thingName: string }[] }>('/things?prefix=console-d');
    expect(search.body.things.map((x) => x.thingName)).toEqual(['console-dev-1']);
    expect((await c.delete('/groups/console-group/things/console-dev-1')).status).toBe(200);
    expect((await c.get<{ things: string[] }>('/groups/console-group/things')).body.things).toEqual([]);
  });

  it('puts each validation error next to its field', async () => {
    const c = await adminConsole(t);
    const res = await c.post('/things', { thingName: 'bad name!', attributePayload: { attributes: { 'a b': 'x' } } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InvalidRequestException');
    const fields = (res.body.fieldErrors as { field: string }[]).map((f) => f.field);
    expect(fields).toEqual(['thingName', 'attributePayload.attributes.key']);
    const missing = await c.get('/things/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'ResourceNotFoundException', message: 'Thing nope cannot be found.' });
  });

  it('signs out: the session is gone and the cookies are cleared', async () => {
    const c = await adminConsole(t);
    const stolen = new Map(c.cookies);
    const res = await c.delete('/session');
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().every((l) => /Max-Age=0/.test(l))).toBe(true);
    expect((await c.get('/session')).status).toBe(401);
    // The old cookie value no longer works either.
    const replay = new ConsoleClient(t.endpoint);
    for (const [k, v] of stolen) replay.cookies.set(k, v);
    expect((await replay.get('/things')).status).toBe(401);
  });

  it('locks a user name out after repeated wrong passwords', async () => {
    const c = ConsoleClient.for(t);
    for (let i = 0; i < SIGN_IN_LIMITS.maxFailures; i++) {
      expect((await c.signIn('admin', `wrong-${i}`)).status).toBe(401);
    }
    const locked = await c.signIn('admin', t.server.consoleAdmin.generatedPassword!);
    expect(locked.status).toBe(429);
    expect(locked.body.message).toMatch(/Too many failed sign-in attempts/);
  });
});

describe('console sessions in fake time', () => {
  let t: TestServer;
  const clock = new FakeClock();
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => t?.stop());

  it('ends a session after the idle limit, and keeps an active one alive', async () => {
    const c = await adminConsole(t);
    clock.advance(SESSION_LIMITS.idleMs - 60_000);
    expect((await c.get('/session')).status).toBe(200);
    clock.advance(SESSION_LIMITS.idleMs - 60_000);
    expect((await c.get('/session')).status).toBe(200);
    clock.advance(SESSION_LIMITS.idleMs);
    expect((await c.get('/session')).status).toBe(401);
  });

  it('ends a session at the absolute limit even when it is used', async () => {
    const c = await adminConsole(t);
    const step = SESSION_LIMITS.idleMs / 2;
    for (let used = 0; used + step < SESSION_LIMITS.absoluteMs; used += step) {
      expect((await c.get('/session')).status).toBe(200);
      clock.advance(step);
    }
    clock.advance(step);
    expect((await c.get('/session')).status).toBe(401);
  });
});
