import { join } from 'node:path';
import type { ObjectBackend } from './backend.js';
import { DiskBackend } from './disk.backend.js';
import { parseS3BackendUrl, S3Backend } from './s3.backend.js';

/** The backend named by --objects: an s3:// URL, or (default) <data-dir>/objects. */
export async function openObjectBackend(
  config: { dataDir: string; objects?: string; region: string },
  env: NodeJS.ProcessEnv,
): Promise<ObjectBackend> {
  if (config.objects) return new S3Backend(parseS3BackendUrl(config.objects, env, config.region));
  return DiskBackend.open(join(config.dataDir, 'objects'));
}
