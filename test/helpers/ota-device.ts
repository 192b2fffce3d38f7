import https from 'node:https';
import mqtt, { type MqttClient } from 'mqtt';
import {
  BlockBitmap,
  decodeDataBlock,
  decodeRejection,
  DEFAULT_BLOCK_SIZE,
  encodeGetStreamRequest,
  encodeJsonGetStreamRequest,
  jobsTopics,
  nextGetBody,
  PAL_SIGNATURE_CHECK_FAILED,
  packVersion,
  parseJobMessage,
  statusMessages,
  STREAM_CLIENT_TOKEN,
  streamTopics,
  unpackVersion,
  verifyImage,
  type AppVersion,
  type OtaJob,
  type StreamFormat,
} from './ota-wire.js';

/**
 * A device that behaves like the FreeRTOS OTA agent (aws/ota-for-aws-iot-embedded-sdk, spec 5.8 and 6.5),
 * over mqtt.js with the thing's client certificate. The C agent cannot run inside the test suite, so this
 * replays its documented requests and responses (see ota-wire.ts for the byte-level sources):
 *
 *  1. subscribe `jobs/notify-next` (QoS 1), publish `jobs/$next/get` `{"clientToken":"<n>:<thing>"}` and take
 *     the reply on `$next/get/accepted` without subscribing to it;
 *  2. parse `execution.jobDocument.afr_ota`; over MQTT subscribe `streams/<name>/data/<fmt>` (QoS 0) and
 *     publish GetStream requests for `n` blocks, again after `n` good blocks or after the request timer:
 *     in CBOR as the OTA agent does (`c`,`f`,`l`,`o`,`b`,`n`, the bitmap of the blocks still missing), in
 *     JSON as the MQTT file streams library does (`s`,`f`,`l`,`o`,`n`: the next consecutive blocks);
 *     over HTTP, GET the presigned `update_data_url` one block at a time with a Range header;
 *  3. report `{"receive":"k/N"}` at QoS 0 after the first block and every `statusFrequency` blocks;
 *  4. check the signature (`sig-sha256-ecdsa`, DER ECDSA over SHA-256) with the certificate it holds under
 *     `certfile`; good: IN_PROGRESS `self_test: ready`, then "reboot" into the new image, ask for the job
 *     again, see `self_test` in statusDetails, check the version went up, report `self_test: active`, run the
 *     self test and report SUCCEEDED; bad: FAILED with `reason` `0x000000e3: 0x00000000`.
 *
 * Deviations, all for the sake of tests: it also subscribes `streams/<name>/rejected/<fmt>` (the agent
 * only times out) so a refusal fails the run at once, and it waits for each final `update/accepted`
 * (delivered unsubscribed, spec 5.2) so a test may read the server's state right after `run()`.
 */

export interface OtaDeviceOptions {
  mqttUrl: string;
  thingName: string;
  clientId?: string;
  cert: string;
  key: string;
  ca: string;
  /** Stream message format (the C agent speaks CBOR; the file streams library also JSON). */
  format?: StreamFormat;
  /** Data protocol the device prefers among the job's `protocols` (otaconfigPREFERRED_DATA_PROTOCOL). */
  protocol?: 'MQTT' | 'HTTP';
  /** Code-signing certificates on the device's "file system", by `certfile` path. */
  certificates: Record<string, string>;
  /** The application running now, and the version the downloaded image reports once it runs. */
  version: AppVersion;
  imageVersion: AppVersion;
  blockSize?: number;
  /** otaconfigMAX_NUM_BLOCKS_REQUEST: 1 in the library's defaults, 8 in the POSIX demo. */
  blocksPerRequest?: number;
  /** otaconfigOTA_UPDATE_STATUS_FREQUENCY: 64 by default, 25 in the POSIX demo. */
  statusFrequency?: number;
  /** otaconfigFILE_REQUEST_WAIT_MS and otaconfigMAX_NUM_REQUEST_MOMENTUM. */
  requestTimeoutMs?: number;
  maxMomentum?: number;
  /** The application's self test after the reboot; true accepts the image. */
  selfTest?: () => boolean | Promise<boolean>;
  signatureKey?: string;
}

export type OtaResult = 'SUCCEEDED' | 'FAILED';

export interface OtaOutcome {
  jobId: string;
  result: OtaResult;
  /** The last status message body the device published. */
  lastStatus: Record<string, unknown>;
  image?: Buffer;
  verified: boolean;
  blocksReceived: number;
  duplicates: number;
  /** GetStream requests (MQTT) or range requests (HTTP). */
  requests: number;
  reboots: number;
}

export class StreamRejectedError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(`stream request rejected: ${code}${message ? ` (${message})` : ''}`);
  }
}

interface Published {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
}

interface Download {
  job: OtaJob;
  bitmap: BlockBitmap;
  image: Buffer;
  toReceive: number;
  momentum: number;
  timer?: NodeJS.Timeout;
}

export class OtaDevice {
  readonly published: Published[] = [];
  readonly received: { topic: string; payload: Buffer }[] = [];
  readonly log: string[] = [];
  private client?: MqttClient;
  private running: AppVersion;
  private pendingCommit = false;
  private requestCounter = 0;
  private download?: Download;
  private activeJobId?: string;
  private queue: Promise<void> = Promise.resolve();
  /** Per connection: update requests sent and answers seen, per job; replies come back in order. */
  private updatesSent = new Map<string, number>();
  private repliesSeen = new Map<string, { n: number; rejected: boolean }[]>();
  private replyWaiters: { topic: string; n: number; resolve: (rejected: boolean) => void }[] = [];
  private stats = { blocksReceived: 0, duplicates: 0, requests: 0, reboots: 0 };
  private lastStatus: Record<string, unknown> = {};
  private image?: Buffer;
  private verified = false;
  private settle!: { resolve: (o: OtaOutcome) => void; reject: (e: Error) => void };
  private markIdle!: () => void;
  /** Resolves once the device asked for its next job and was told there is none (it waits for notify-next). */
  readonly idle: Promise<void> = new Promise((resolve) => (this.markIdle = resolve));
  private readonly done: Promise<OtaOutcome>;
  private readonly opts: Required<Omit<OtaDeviceOptions, 'clientId'>> & { clientId: string };

  constructor(options: OtaDeviceOptions) {
    this.opts = {
      format: 'cbor',
      protocol: 'MQTT',
      blockSize: DEFAULT_BLOCK_SIZE,
      blocksPerRequest: 1,
      statusFrequency: 64,
      requestTimeoutMs: 10_000,
      maxMomentum: 32,
      selfTest: () => true,
      signatureKey: 'sig-sha256-ecdsa',
      clientId: options.thingName,
      ...options,
    };
    this.running = options.version;
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // A rejection nobody awaited yet must not crash the test run; run() hands it over.
    this.done.catch(() => undefined);
  }

  get runningVersion(): AppVersion {
    return this.running;
  }

  /** Boots, takes the next job, and resolves once that job ended (SUCCEEDED or FAILED) on the server. */
  async run(): Promise<OtaOutcome> {
    await this.boot();
    try {
      return await this.done;
    } finally {
      this.clearTimer();
      await this.client?.endAsync(true);
    }
  }

  /** Ends the connection (a test that gives up, or afterAll). */
  async stop(): Promise<void> {
    this.clearTimer();
    await this.client?.endAsync(true);
  }

  private topics = () => jobsTopics(this.opts.thingName);

  private async boot(): Promise<void> {
    const client = await mqtt.connectAsync(this.opts.mqttUrl, {
      clientId: this.opts.clientId,
      cert: this.opts.cert,
      key: this.opts.key,
      ca: this.opts.ca,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    this.client = client;
    this.updatesSent.clear();
    this.repliesSeen.clear();
    client.on('message', (topic, payload) => {
      this.received.push({ topic, payload });
      // Answers to status updates are matched here, outside the queue, since a handler may be awaiting one.
      const reply = /^(.*\/update)\/(accepted|rejected)$/.exec(topic);
      if (reply) return this.onUpdateReply(reply[1]!, reply[2] === 'rejected');
      this.queue = this.queue.then(() => this.onMessage(topic, payload)).catch((err: Error) => this.fail(err));
    });
    await client.subscribeAsync(this.topics().notifyNext, { qos: 1 });
    this.note(`subscribed ${this.topics().notifyNext}`);
    await this.publish(this.topics().nextGet, nextGetBody(this.requestCounter++, this.opts.thingName), 1);
  }

  private async publish(topic: string, payload: string | Buffer, qos: 0 | 1): Promise<number> {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.published.push({ topic, payload: body, qos });
    const n = (this.updatesSent.get(topic) ?? 0) + 1;
    if (topic.endsWith('/update')) this.updatesSent.set(topic, n);
    await this.client!.publishAsync(topic, body, { qos });
    return n;
  }

  private onUpdateReply(topic: string, rejected: boolean): void {
    const seen = this.repliesSeen.get(topic) ?? [];
    seen.push({ n: seen.length + 1, rejected });
    this.repliesSeen.set(topic, seen);
    this.replyWaiters = this.replyWaiters.filter((w) => {
      const r = w.topic === topic ? seen[w.n - 1] : undefined;
      if (r) w.resolve(r.rejected);
      return !r;
    });
  }

  /** The answer to the n-th update sent on this connection to `topic`. */
  private replyTo(topic: string, n: number): Promise<boolean> {
    const r = this.repliesSeen.get(topic)?.[n - 1];
    if (r) return Promise.resolve(r.rejected);
    return new Promise((resolve) => this.replyWaiters.push({ topic, n, resolve }));
  }

  private note(line: string): void {
    this.log.push(line);
  }

  private fail(err: Error): void {
    this.note(`error: ${err.message}`);
    this.clearTimer();
    this.settle.reject(err);
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const t = this.topics();
    if (topic === t.notifyNext || topic === t.nextGetAccepted) return this.onJobMessage(payload);
    if (topic === t.nextGetRejected) throw new Error(`$next/get rejected: ${payload.toString()}`);
    const d = this.download;
    if (d?.job.streamName) {
      const s = streamTopics(this.opts.thingName, d.job.streamName, this.opts.format);
      if (topic === s.data) return this.onDataBlock(d, payload);
      if (topic === s.rejected) {
        const r = decodeRejection(this.opts.format, payload);
        throw new StreamRejectedError(r.code, r.message);
      }
    }
    // Replies to QoS 0 progress updates and anything else the agent has no handler for are dropped.
  }

  private async onJobMessage(raw: Buffer): Promise<void> {
    const job = parseJobMessage(JSON.parse(raw.toString('utf8')), this.opts.signatureKey);
    if (!job) {
      this.note('no job queued; waiting for notify-next');
      this.markIdle();
      return;
    }
    // A document for the job already under way (notify-next after $next/get) changes nothing.
    if (job.jobId === this.activeJobId) return;
    this.activeJobId = job.jobId;
    this.note(`job ${job.jobId}: ${job.file.filesize} bytes, protocols ${job.protocols.join(',')}`);
    if (job.selfTest !== undefined) return this.onSelfTestJob(job);
    if (this.pendingCommit) {
      // The platform waits for a self test the service knows nothing of (OtaErrImageStateMismatch).
      return this.finish(job.jobId, 'FAILED', statusMessages.failed('rejected', 17));
    }
    const bitmap = new BlockBitmap(job.file.filesize, this.opts.blockSize);
    const d: Download = {
      job,
      bitmap,
      image: Buffer.alloc(job.file.filesize),
      toReceive: 0,
      momentum: 0,
    };
    this.download = d;
    const useHttp = this.opts.protocol === 'HTTP' && job.protocols.includes('HTTP') && job.file.updateDataUrl;
    if (useHttp) return this.downloadHttp(d);
    if (!job.protocols.includes('MQTT') || !job.streamName) throw new Error('OtaErrInvalidDataProtocol');
    const s = streamTopics(this.opts.thingName, job.streamName, this.opts.format);
    await this.client!.subscribeAsync([s.data, s.rejected], { qos: 0 });
    this.note(`subscribed ${s.data}`);
    await this.requestBlocks(d);
  }

  private async requestBlocks(d: Download): Promise<void> {
    const s = streamTopics(this.opts.thingName, d.job.streamName!, this.opts.format);
    d.toReceive = this.opts.blocksPerRequest;
    this.stats.requests++;
    this.armTimer(d);
    const file = { fileId: d.job.file.fileid, blockSize: this.opts.blockSize };
    if (this.opts.format === 'cbor') {
      const bitmap = d.bitmap.bytes;
      const body = encodeGetStreamRequest({
        ...file,
        clientToken: STREAM_CLIENT_TOKEN,
        blockOffset: 0,
        bitmap,
        numberOfBlocks: d.toReceive,
      });
      return void (await this.publish(s.get, body, 0));
    }
    // JSON: the next run of missing blocks, as a file streams library client asks for them.
    const first = d.bitmap.firstWanted();
    let n = 0;
    while (n < d.toReceive && d.bitmap.wanted(first + n)) n++;
    d.toReceive = n;
    await this.publish(s.get, encodeJsonGetStreamRequest({ ...file, blockOffset: first, numberOfBlocks: n }), 0);
  }

  /** The request timer: no block for requestTimeoutMs asks again, up to maxMomentum times (then abort). */
  private armTimer(d: Download): void {
    this.clearTimer();
    d.timer = setTimeout(() => {
      this.queue = this.queue
        .then(async () => {
          if (this.download !== d) return;
          if (++d.momentum >= this.opts.maxMomentum) {
            this.note('no block after the maximum request momentum; aborting');
            this.download = undefined;
            return this.finish(d.job.jobId, 'FAILED', statusMessages.failedWithValue(14, 0)); // OtaErrMomentumAbort
          }
          await this.requestBlocks(d);
        })
        .catch((err: Error) => this.fail(err));
    }, this.opts.requestTimeoutMs);
    d.timer.unref();
  }

  private clearTimer(): void {
    if (this.download?.timer) clearTimeout(this.download.timer);
  }

  private async onDataBlock(d: Download, raw: Buffer): Promise<void> {
    const block = decodeDataBlock(this.opts.format, raw);
    if (block.fileId !== d.job.file.fileid) return;
    if (await this.ingest(d, block.blockId, block.payload)) await this.requestBlocks(d);
  }

  /** processDataBlock + processDataHandler: true when more blocks must be requested. */
  private async ingest(d: Download, index: number, payload: Buffer): Promise<boolean> {
    if (!d.bitmap.validBlock(index, payload.length)) {
      // IngestResultBlockOutOfRange: the agent drops it and keeps waiting.
      this.note(`block ${index} (${payload.length} bytes) out of range`);
      return false;
    }
    if (!d.bitmap.take(index)) {
      this.stats.duplicates++;
      return false;
    }
    payload.copy(d.image, index * this.opts.blockSize);
    this.stats.blocksReceived++;
    d.momentum = 0;
    if (d.bitmap.remaining === 0) {
      this.clearTimer();
      this.download = undefined;
      await this.close(d);
      return false;
    }
    const received = d.bitmap.blocks - d.bitmap.remaining;
    if (received === 1 || received % this.opts.statusFrequency === 0)
      await this.publish(this.topics().update(d.job.jobId), statusMessages.receiving(received, d.bitmap.blocks), 0);
    if (d.toReceive > 1) {
      d.toReceive--;
      return false;
    }
    return true;
  }

  private async downloadHttp(d: Download): Promise<void> {
    const url = d.job.file.updateDataUrl!;
    for (let index = 0; d.bitmap.remaining > 0; index++) {
      const start = index * this.opts.blockSize;
      const end = Math.min(start + this.opts.blockSize, d.job.file.filesize) - 1;
      this.stats.requests++;
      const { status, body } = await this.get(url, `bytes=${start}-${end}`);
      if (status !== 206 && status !== 200) throw new Error(`HTTP ${status} for block ${index}: ${body.toString()}`);
      // decodeFileBlock_Http: a body larger than one block is an error.
      if (body.length > this.opts.blockSize) throw new Error(`block ${index}: ${body.length} bytes in one response`);
      await this.ingest(d, index, body);
    }
  }

  private get(url: string, range: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      https
        .get(url, { ca: this.opts.ca, headers: { Range: range } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
  }

  /** otaClose -> otaPal_CloseFile: verify, then report `self_test: ready` and activate, or FAILED. */
  private async close(d: Download): Promise<void> {
    this.image = d.image;
    const cert = d.job.file.certfile !== undefined ? this.opts.certificates[d.job.file.certfile] : undefined;
    if (cert === undefined) {
      this.note(`no signer certificate at ${String(d.job.file.certfile)}`);
      return this.finish(d.job.jobId, 'FAILED', statusMessages.failedWithValue(0xe7, 0)); // OtaPalBadSignerCert
    }
    this.verified = d.job.file.signature !== undefined && verifyImage(d.image, d.job.file.signature, cert);
    if (!this.verified) {
      this.note('signature check failed; image rejected');
      return this.finish(d.job.jobId, 'FAILED', statusMessages.failedWithValue(PAL_SIGNATURE_CHECK_FAILED, 0));
    }
    this.note('signature verified; self test ready');
    await this.reportAndWait(d.job.jobId, statusMessages.selfTest('ready', this.running));
    await this.reboot();
  }

  /** OtaJobEventActivate: the new image starts in the "pending commit" state and asks for its job again. */
  private async reboot(): Promise<void> {
    this.stats.reboots++;
    this.activeJobId = undefined;
    const old = this.client!;
    this.client = undefined;
    await old.endAsync(true);
    this.running = this.opts.imageVersion;
    this.pendingCommit = true;
    this.note(`rebooted into v${this.running.major}.${this.running.minor}.${this.running.build}`);
    await this.boot();
  }

  /** handleSelfTestJobDoc + the application's self test (OtaJobEventStartTest). */
  private async onSelfTestJob(job: OtaJob): Promise<void> {
    const running = packVersion(this.running);
    const updatedBy = job.updatedBy ?? 0;
    if (!this.pendingCommit) return this.finish(job.jobId, 'FAILED', statusMessages.failed('rejected', 17));
    if (running === updatedBy) return this.finish(job.jobId, 'FAILED', statusMessages.failed('rejected', 16));
    if (running < updatedBy) return this.finish(job.jobId, 'FAILED', statusMessages.failed('rejected', 15));
    await this.reportAndWait(job.jobId, statusMessages.selfTest('active', this.running));
    this.pendingCommit = false;
    if (!(await this.opts.selfTest())) return this.finish(job.jobId, 'FAILED', statusMessages.failed('rejected', 0));
    return this.finish(job.jobId, 'SUCCEEDED', statusMessages.succeeded(this.running, unpackVersion(updatedBy)));
  }

  /** Publishes a QoS 1 status and waits for the service's answer on `<jobId>/update/accepted|rejected`. */
  private async reportAndWait(jobId: string, body: string): Promise<void> {
    const topic = this.topics().update(jobId);
    this.lastStatus = JSON.parse(body) as Record<string, unknown>;
    const n = await this.publish(topic, body, 1);
    if (await this.replyTo(topic, n)) throw new Error(`status update ${body} rejected`);
  }

  private async finish(jobId: string, result: OtaResult, body: string): Promise<void> {
    await this.reportAndWait(jobId, body);
    this.activeJobId = undefined;
    this.note(`job ${jobId}: ${result}`);
    this.settle.resolve({
      jobId,
      result,
      lastStatus: this.lastStatus,
      ...(this.image && { image: this.image }),
      verified: this.verified,
      ...this.stats,
    });
  }
}

/**
 * A trust policy for an OTA update's role (CreateOTAUpdate roleArn): the IoT service may assume it for
 * this account's resources (the update, its stream and its job), with the confused-deputy conditions.
 */
export const otaRoleTrust = (account: string, region: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:aws:iot:${region}:${account}:*` },
        },
      },
    ],
  });
