import { ServiceError } from '../../../errors.js';
import { checkBucketName } from '../../../objects/objects.schemas.js';
import { readXmlBody, sendEmpty, sendXml, type S3Request } from './s3.context.js';

const bucketOf = (r: S3Request): string => r.bucket!;

export async function listBuckets(r: S3Request): Promise<void> {
  const buckets = await r.services.objects.listBuckets();
  sendXml(r.reply, 'ListAllMyBucketsResult', {
    Owner: r.owner,
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.createdAt })) },
  });
}

export async function createBucket(r: S3Request): Promise<void> {
  checkBucketName(bucketOf(r));
  const config = await readXmlBody(r, 'CreateBucketConfiguration', true);
  const location = config.LocationConstraint;
  // One region per server: a bucket "in" another region would be a lie.
  if (typeof location === 'string' && location !== '' && location !== r.region) {
    throw new ServiceError(
      'InvalidRequest',
      `The specified location-constraint '${location}' is not valid: this server's region is ${r.region}.`,
    );
  }
  await r.services.objects.createBucket(bucketOf(r));
  void r.reply.header('location', `/${bucketOf(r)}`);
  sendEmpty(r.reply, 200);
}

export async function deleteBucket(r: S3Request): Promise<void> {
  await r.services.objects.deleteBucket(bucketOf(r));
  sendEmpty(r.reply, 204);
}

export async function headBucket(r: S3Request): Promise<void> {
  await r.services.objects.requireBucket(bucketOf(r));
  void r.reply.header('x-amz-bucket-region', r.region);
  sendEmpty(r.reply, 200);
}

export async function getBucketLocation(r: S3Request): Promise<void> {
  await r.services.objects.requireBucket(bucketOf(r));
  // S3 answers an empty LocationConstraint for us-east-1.
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${r.region === 'us-east-1' ? '' : r.region}</LocationConstraint>`;
  void r.reply.code(200).header('content-type', 'application/xml').send(body);
}

export async function getBucketVersioning(r: S3Request): Promise<void> {
  const status = await r.services.objects.getVersioning(bucketOf(r));
  sendXml(r.reply, 'VersioningConfiguration', status === '' ? {} : { Status: status });
}

export async function putBucketVersioning(r: S3Request): Promise<void> {
  const config = await readXmlBody(r, 'VersioningConfiguration');
  const mfa = config.MfaDelete;
  if (mfa !== undefined && mfa !== 'Disabled') {
    throw new ServiceError('NotImplemented', 'MFA Delete is not supported by this server.');
  }
  await r.services.objects.putVersioning(bucketOf(r), typeof config.Status === 'string' ? config.Status : '');
  sendEmpty(r.reply, 200);
}
