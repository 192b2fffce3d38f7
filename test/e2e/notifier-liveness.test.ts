import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateJobCommand, CreateThingGroupCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { startTestServer, type TestServer } from '../helpers/server.js';

const FLEET = 20_000;

/**
 * better-sqlite3 answers synchronously; a notifier that drains a big fan-out without giving the
 * event loop a turn would hold every HTTP reply until the outbox is empty. No timing here: the
 * reply must simply arrive while the drain is still under way.
 */
describe('the notifier does not starve the API while it drains a fan-out (SQLite)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    const iot = t.iot();
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'big' }));
    const db = t.server.store.db;
    const rows = Array.from({ length: FLEET }, (_, i) => `dev-${String(i).padStart(6, '0')}`);
    for (let i = 0; i < rows.length; i += 2000) {
      const slice = rows.slice(i, i + 2000);
      await db
        .insertInto('things')
        .values(
          slice.map((name) => ({
            name,
            id: name,
            thing_type_name: null,
            billing_group_name: null,
            attributes: '{}',
            version: 1,
            created_at: 0,
          })),
        )
        .execute();
      await db
        .insertInto('thing_group_members')
        .values(slice.map((thing_name) => ({ group_name: 'big', thing_name, added_at: 0 })))
        .execute();
    }
  });
  afterAll(async () => t?.stop());

  it('answers ListThings before the outbox of a 20,000-thing job is empty', async () => {
    const iot = t.iot();
    await iot.send(
      new CreateJobCommand({
        jobId: 'fan',
        targets: ['arn:aws:iot:us-east-1:000000000000:thinggroup/big'],
        document: '{"op":"x"}',
      }),
    );
    const listed = await iot.send(new ListThingsCommand({ maxResults: 5 }));
    expect(listed.things).toHaveLength(5);
    const left = await t.server.store.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(left.n)).toBeGreaterThan(0);
  });
});
