import type { Migration } from 'kysely';
import * as m0001 from './0001_registry.js';
import * as m0002 from './0002_outbox.js';
import * as m0003 from './0003_thing_types.js';
import * as m0010 from './0010_jobs.js';
import * as m0011 from './0011_counter_deltas.js';
import * as m0020 from './0020_certificates.js';
import * as m0021 from './0021_notifier.js';
import * as m0022 from './0022_shared_ca.js';
import * as m0030 from './0030_objects.js';
import * as m0031 from './0031_iam.js';
import * as m0040 from './0040_signing.js';
import * as m0050 from './0050_console.js';
import * as m0060 from './0060_scheduler.js';
import * as m0061 from './0061_thing_counters.js';
import * as m0062 from './0062_release_window.js';
import * as m0063 from './0063_rollout_pause.js';
import * as m0080 from './0080_fleet_index.js';
import * as m0090 from './0090_streams.js';
import * as m0091 from './0091_ota_updates.js';
import * as m0092 from './0092_outbox_origin.js';

/**
 * Numbered migrations, applied in name order on start. Number ranges by feature keep parallel
 * work apart: 0001-0009 registry, 0010-0019 jobs, 0020-0029 devices/certificates, 0030-0039
 * objects and IAM, 0040-0049 signing, 0050-0059 console, 0060-0069 scheduler,
 * 0080-0089 fleet index, 0090-0099 streams and OTA updates.
 */
export const migrations: Record<string, Migration> = {
  '0001_registry': m0001,
  '0002_outbox': m0002,
  '0003_thing_types': m0003,
  '0010_jobs': m0010,
  '0011_counter_deltas': m0011,
  '0020_certificates': m0020,
  '0021_notifier': m0021,
  '0022_shared_ca': m0022,
  '0030_objects': m0030,
  '0031_iam': m0031,
  '0040_signing': m0040,
  '0050_console': m0050,
  '0060_scheduler': m0060,
  '0061_thing_counters': m0061,
  '0062_release_window': m0062,
  '0063_rollout_pause': m0063,
  '0080_fleet_index': m0080,
  '0090_streams': m0090,
  '0091_ota_updates': m0091,
  '0092_outbox_origin': m0092,
};
