import { Readable } from 'node:stream';
import type { MiddlewareStack } from '@smithy/types';

/**
 * The AWS SDK serializes only the members of its model and drops unknown response members. Our
 * extensions (e.g. CreateJob's `stagedRollout`) travel as extra JSON members, added to the signed
 * request body here and read back from the raw response.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStack = MiddlewareStack<any, any>;

interface HasStack {
  middlewareStack: AnyStack;
}

interface HttpRequestLike {
  body?: unknown;
  headers: Record<string, string>;
}

/** Adds members to the command's JSON body before it is signed. */
export function withBodyMembers<C extends HasStack>(command: C, members: Record<string, unknown>): C {
  const extra = Object.fromEntries(Object.entries(members).filter(([, v]) => v !== undefined));
  if (Object.keys(extra).length === 0) return command;
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as HttpRequestLike;
      const text = bodyText(request.body);
      const body = { ...(text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)), ...extra };
      request.body = JSON.stringify(body);
      request.headers['content-type'] ??= 'application/json';
      // The content-length middleware may already have run; the signature (finalizeRequest) has not.
      request.headers['content-length'] = String(Buffer.byteLength(request.body as string));
      return next(args);
    },
    { step: 'build', priority: 'low', name: 'fleetjobsBodyMembers' },
  );
  return command;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  // Not Buffer.from(body): the SDK's byte body warns when read through its string methods.
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new Error('cannot add members to a streamed request body');
}

/** Keeps a copy of the raw JSON response, for members the SDK model does not know. */
export function captureJson<C extends HasStack>(
  command: C,
): { json(): Record<string, unknown> | undefined; command: C } {
  let captured: Record<string, unknown> | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { body?: unknown; statusCode?: number };
      if (response.body instanceof Readable) {
        const chunks: Buffer[] = [];
        for await (const c of response.body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
        const bytes = Buffer.concat(chunks);
        try {
          captured = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
        } catch {
          captured = undefined;
        }
        // Give the SDK's deserializer a fresh stream with the same bytes.
        response.body = Readable.from([bytes]);
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'fleetjobsCaptureJson' },
  );
  return { json: () => captured, command };
}
