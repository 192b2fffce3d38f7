import { ServiceError } from '../../../errors.js';
import type { QueryParams } from '../request.js';
import { headerValue, type Headers } from '../sigv4.js';
import * as buckets from './s3.bucket.handlers.js';
import type { S3Request } from './s3.context.js';
import * as lists from './s3.list.handlers.js';
import * as multipart from './s3.multipart.handlers.js';
import * as objects from './s3.object.handlers.js';

export interface S3Operation {
  name: string;
  /** The IAM action checked before the handler runs, on the bucket or bucket/key; undefined: the handler checks. */
  action: string | undefined;
  handler: (r: S3Request) => Promise<void>;
}

const op = (name: string, action: string | undefined, handler: S3Operation['handler']): S3Operation => ({
  name,
  action,
  handler,
});

/** Subresources we know but do not serve: a clear NotImplemented instead of a wrong answer. */
const UNSUPPORTED = [
  'acl',
  'policy',
  'tagging',
  'cors',
  'lifecycle',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'attributes',
  'torrent',
  'restore',
  'select',
  'accelerate',
  'requestPayment',
  'ownershipControls',
  'publicAccessBlock',
  'analytics',
  'metrics',
  'inventory',
  'intelligent-tiering',
];

function bucketOperation(method: string, q: QueryParams): S3Operation | undefined {
  switch (method) {
    case 'PUT':
      if (q.has('versioning')) return op('PutBucketVersioning', 's3:PutBucketVersioning', buckets.putBucketVersioning);
      return op('CreateBucket', 's3:CreateBucket', buckets.createBucket);
    case 'DELETE':
      return op('DeleteBucket', 's3:DeleteBucket', buckets.deleteBucket);
    case 'HEAD':
      return op('HeadBucket', 's3:ListBucket', buckets.headBucket);
    case 'POST':
      // S3 authorizes DeleteObjects key by key (s3:DeleteObject), which the handler does.
      return q.has('delete') ? op('DeleteObjects', undefined, objects.deleteObjects) : undefined;
    case 'GET':
      if (q.has('versioning')) return op('GetBucketVersioning', 's3:GetBucketVersioning', buckets.getBucketVersioning);
      if (q.has('location')) return op('GetBucketLocation', 's3:GetBucketLocation', buckets.getBucketLocation);
      if (q.has('versions')) return op('ListObjectVersions', 's3:ListBucketVersions', lists.listObjectVersions);
      if (q.has('uploads')) {
        return op('ListMultipartUploads', 's3:ListBucketMultipartUploads', lists.listMultipartUploads);
      }
      if (q.string('list-type') === '2') return op('ListObjectsV2', 's3:ListBucket', lists.listObjectsV2);
      return op('ListObjects', 's3:ListBucket', lists.listObjectsV1);
    default:
      return undefined;
  }
}

function objectOperation(method: string, q: QueryParams, headers: Headers): S3Operation | undefined {
  const versioned = q.has('versionId');
  switch (method) {
    case 'PUT':
      if (q.has('uploadId')) return op('UploadPart', 's3:PutObject', multipart.uploadPart);
      if (headerValue(headers, 'x-amz-copy-source') !== undefined)
        return op('CopyObject', 's3:PutObject', objects.copy);
      return op('PutObject', 's3:PutObject', objects.putObject);
    case 'GET':
      if (q.has('uploadId')) return op('ListParts', 's3:ListMultipartUploadParts', multipart.listParts);
      return op('GetObject', versioned ? 's3:GetObjectVersion' : 's3:GetObject', objects.getObject);
    case 'HEAD':
      return op('HeadObject', versioned ? 's3:GetObjectVersion' : 's3:GetObject', objects.getObject);
    case 'DELETE':
      if (q.has('uploadId'))
        return op('AbortMultipartUpload', 's3:AbortMultipartUpload', multipart.abortMultipartUpload);
      return op('DeleteObject', versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', objects.deleteObject);
    case 'POST':
      if (q.has('uploads')) return op('CreateMultipartUpload', 's3:PutObject', multipart.createMultipartUpload);
      if (q.has('uploadId')) return op('CompleteMultipartUpload', 's3:PutObject', multipart.completeMultipartUpload);
      return undefined;
    default:
      return undefined;
  }
}

/** Path-style S3 routing: the method, whether a bucket and key are named, and the subresource. */
export function resolveOperation(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  q: QueryParams,
  headers: Headers,
): S3Operation {
  const unsupported = UNSUPPORTED.find((s) => q.has(s));
  if (unsupported)
    throw new ServiceError('NotImplemented', `The ?${unsupported} subresource is not supported by this server.`);
  const found =
    bucket === undefined
      ? method === 'GET'
        ? op('ListBuckets', 's3:ListAllMyBuckets', buckets.listBuckets)
        : undefined
      : key === undefined
        ? bucketOperation(method, q)
        : objectOperation(method, q, headers);
  if (!found) {
    throw new ServiceError('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
      Method: method,
      ResourceType: key === undefined ? (bucket === undefined ? 'SERVICE' : 'BUCKET') : 'OBJECT',
    });
  }
  return found;
}
