import { ServiceError } from './errors.js';

export interface Partition {
  region: string;
  account: string;
}

export type ArnResource =
  | 'thing'
  | 'thinggroup'
  | 'thingtype'
  | 'job'
  | 'jobtemplate'
  | 'cert'
  | 'cacert'
  | 'rolealias'
  | 'stream'
  | 'otaupdate';

/** ARNs of the iot service for this server's region and account (DESIGN.md, spec 3.1). */
export class Arns {
  constructor(readonly partition: Partition) {}

  iot(resource: ArnResource, id: string): string {
    return `arn:aws:iot:${this.partition.region}:${this.partition.account}:${resource}/${id}`;
  }
  thing = (name: string): string => this.iot('thing', name);
  thingGroup = (name: string): string => this.iot('thinggroup', name);
  thingType = (name: string): string => this.iot('thingtype', name);
  job = (id: string): string => this.iot('job', id);
  jobTemplate = (id: string): string => this.iot('jobtemplate', id);
  cert = (id: string): string => this.iot('cert', id);
  stream = (id: string): string => this.iot('stream', id);

  /** Parses an iot ARN of this account; other regions or accounts are not ours. */
  parseIot(arn: string): { resource: string; id: string } | undefined {
    const m = /^arn:aws:iot:([^:]*):([^:]*):([a-z]+)\/(.+)$/.exec(arn);
    if (!m || m[1] !== this.partition.region || m[2] !== this.partition.account) return undefined;
    return { resource: m[3]!, id: m[4]! };
  }

  /** The id of an ARN of the given type, or a ResourceNotFound/InvalidRequest error. */
  idOf(arn: string, resource: ArnResource, field: string): string {
    const parsed = this.parseIot(arn);
    if (!parsed) {
      if (/^arn:aws:iot:/.test(arn))
        throw new ServiceError('ResourceNotFound', `${arn} does not exist in this account and region`);
      throw new ServiceError('InvalidRequest', `${field} '${arn}' is not an AWS IoT ARN`);
    }
    if (parsed.resource !== resource) {
      throw new ServiceError('InvalidRequest', `${field} '${arn}' is not a ${resource} ARN`);
    }
    return parsed.id;
  }
}
