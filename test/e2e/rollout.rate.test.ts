import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { GetPendingJobExecutionsCommand, IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

/**
 * Issue 15, checked from outside as an operator would: a job with maximumPerMinute 10 on 30
 * things, each thing's pending jobs asked through iot-jobs-data (the AWS SDK, SigV4) over time.
 * spec 3.5: the rate is "the maximum number of things that will be notified of a pending job, per
 * minute"; it must hold in every 60-second window from the first one on. The server's scheduler
 * runs on the test's FakeClock (its own loop ticks at the fake now; the test ticks too).
 */
describe.each(DIALECTS)('maximumPerMinute seen from the jobs data plane on %s', (dialect) => {
  // Starts at the real time: SigV4 signatures are checked against the server's clock.
  const clock = new FakeClock(Date.now());
  let t: TestServer;
  let iot: IoTClient;
  let data: IoTJobsDataPlaneClient;
  beforeAll(async () => {
    t = await startTestServer({ dialect, clock });
    iot = t.iot();
    data = new IoTJobsDataPlaneClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    data?.destroy();
    await t?.stop();
  });

  it('lets at most 10 things see the job in any minute, the first 10 at once', async () => {
    const things = Array.from({ length: 30 }, (_, i) => `rate-${String(i).padStart(2, '0')}`);
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'rate-fleet' }));
    for (const thingName of things) {
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'rate-fleet', thingName }));
    }
    const jobId = `rate-${dialect}`;
    const created = clock.now().getTime();
    await iot.send(
      new CreateJobCommand({
        jobId,
        targets: [`arn:aws:iot:us-east-1:000000000000:thinggroup/rate-fleet`],
        document: JSON.stringify({ firmware: '3.0' }),
        jobExecutionsRolloutConfig: { maximumPerMinute: 10 },
      }),
    );
    const seeing = async () => {
      let n = 0;
      for (const thingName of things) {
        const p = await data.send(new GetPendingJobExecutionsCommand({ thingName }));
        if (p.queuedJobs?.some((j) => j.jobId === jobId)) n++;
      }
      return n;
    };
    // The seconds of the table, and the ends of the first two minutes. (The server's own
    // loop may release the first ten at second 0 rather than 2; the counts are the same.)
    const seen: Record<number, number> = {};
    for (const s of [2, 20, 50, 59, 65, 80, 110, 119, 125]) {
      clock.set(created + s * 1000);
      await t.server.services.scheduler.tick(clock.now().getTime());
      seen[s] = await seeing();
    }
    expect(seen).toEqual({
      2: 10,
      20: 10,
      50: 10,
      59: 10,
      65: 20,
      80: 20,
      110: 20,
      119: 20,
      125: 30,
    });
    const d = await iot.send(new DescribeJobCommand({ jobId }));
    expect(d.job?.jobProcessDetails?.numberOfQueuedThings).toBe(30);
  });
});
