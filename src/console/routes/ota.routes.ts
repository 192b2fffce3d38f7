import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CreateOtaUpdateInput } from '../../ota/ota.schemas.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody } from '../http.js';

const params = (request: FastifyRequest): Record<string, string> => request.params as Record<string, string>;

/** How long the console waits for the OTA worker before answering with CREATE_PENDING/IN_PROGRESS. */
const SETTLE_WAIT_MS = 30_000;

/**
 * FreeRTOS OTA updates from the console's create-job flow (issue 20): CreateOTAUpdate as the API
 * takes it, answered once the worker signed the file and made the stream and the AFR_OTA job, so
 * the page can go straight to that job (or show why the update failed).
 */
export function registerOtaRoutes(api: FastifyInstance, deps: ConsoleDeps): void {
  const { ota } = deps.services;
  api.post(
    '/ota-updates',
    json(async (request) => {
      const input = (await jsonBody(request)) as unknown as CreateOtaUpdateInput;
      const created = await ota.updates.createOtaUpdate(input);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ota.worker.settled(created.otaUpdateId),
        new Promise((resolve) => (timer = setTimeout(resolve, SETTLE_WAIT_MS))),
      ]).finally(() => clearTimeout(timer));
      return ota.updates.getOtaUpdate(created.otaUpdateId);
    }),
  );
  api.get(
    '/ota-updates/:otaUpdateId',
    json(async (request) => ota.updates.getOtaUpdate(params(request).otaUpdateId!)),
  );
}
