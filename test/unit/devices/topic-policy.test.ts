import { describe, expect, it } from 'vitest';
import { filterCovers, topicMatches } from '../../../src/protocols/mqtt/topic-filters.js';
import { TopicPolicy } from '../../../src/protocols/mqtt/topic-policy.js';

describe('topicMatches (MQTT 4.7)', () => {
  it.each([
    ['a/b/c', 'a/b/c', true],
    ['a/+/c', 'a/b/c', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/+', 'a/b/c', false],
    ['#', '$aws/things/x/jobs/notify', false],
    ['+/things/x/jobs/notify', '$aws/things/x/jobs/notify', false],
    ['$aws/things/+/jobs/notify', '$aws/things/x/jobs/notify', true],
    ['a/b', 'a/b/c', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('filterCovers', () => {
  it.each([
    ['$aws/things/t/jobs/#', '$aws/things/t/jobs/#', true],
    ['$aws/things/t/jobs/#', '$aws/things/t/jobs/+/update/accepted', true],
    ['$aws/things/t/jobs/#', '$aws/things/t/jobs', true],
    ['$aws/things/t/jobs/#', '$aws/things/t/#', false],
    ['$aws/things/t/jobs/#', '$aws/things/+/jobs/#', false],
    ['$aws/things/t/jobs/#', '#', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/+/c', true],
    ['a/+/c', 'a/#', false],
    ['a/b/c', 'a/+/c', false],
    ['a/b', 'a/b/c', false],
  ])('%s covers %s: %s', (allowed, requested, expected) => {
    expect(filterCovers(allowed, requested)).toBe(expected);
  });
});

describe('TopicPolicy', () => {
  const policy = TopicPolicy.parse(' telemetry/{thing}/# , fleet/broadcast ,');

  it('lets a thing publish to its own jobs topics and the operator topics only', () => {
    expect(policy.canPublish('t1', '$aws/things/t1/jobs/start-next')).toBe(true);
    expect(policy.canPublish('t1', '$aws/things/t1/jobs/j/update')).toBe(true);
    expect(policy.canPublish('t1', 'telemetry/t1/temp')).toBe(true);
    expect(policy.canPublish('t1', 'fleet/broadcast')).toBe(true);
    expect(policy.canPublish('t1', '$aws/things/t2/jobs/start-next')).toBe(false);
    expect(policy.canPublish('t1', '$aws/things/t1/shadow/update')).toBe(false);
    expect(policy.canPublish('t1', 'telemetry/t2/temp')).toBe(false);
    expect(policy.canPublish('t1', 'fleet/other')).toBe(false);
  });

  it('refuses every filter that could reach another thing', () => {
    for (const filter of [
      '#',
      '$aws/#',
      '$aws/things/#',
      '$aws/things/+/jobs/#',
      '$aws/things/t2/jobs/notify',
      'telemetry/+/temp',
      'telemetry/#',
      'fleet/+',
    ]) {
      expect(policy.canSubscribe('t1', filter), filter).toBe(false);
    }
    for (const filter of [
      '$aws/things/t1/jobs/#',
      '$aws/things/t1/jobs/+/get/+',
      'telemetry/t1/+',
      'fleet/broadcast',
    ]) {
      expect(policy.canSubscribe('t1', filter), filter).toBe(true);
    }
  });

  it('lets a thing use its own streams topics only (issue 20)', () => {
    expect(policy.canPublish('t1', '$aws/things/t1/streams/fw/get/cbor')).toBe(true);
    expect(policy.canSubscribe('t1', '$aws/things/t1/streams/fw/data/cbor')).toBe(true);
    expect(policy.canSubscribe('t1', '$aws/things/t1/streams/+/rejected/+')).toBe(true);
    expect(policy.canPublish('t1', '$aws/things/t2/streams/fw/get/cbor')).toBe(false);
    expect(policy.canSubscribe('t1', '$aws/things/t2/streams/fw/data/cbor')).toBe(false);
    expect(policy.canSubscribe('t1', '$aws/things/+/streams/#')).toBe(false);
    expect(policy.canSubscribe('t1', '$aws/things/t1/#')).toBe(false);
  });

  it('allows nothing but the own jobs topics without operator topics', () => {
    const none = TopicPolicy.parse(undefined);
    expect(none.canSubscribe('t1', 'telemetry/t1/#')).toBe(false);
    expect(none.canSubscribe('t1', '$aws/things/t1/jobs/notify-next')).toBe(true);
  });
});
