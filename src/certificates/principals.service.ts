import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { RegistryHooks } from '../registry/registry.hooks.js';
import { checkName } from '../registry/registry.schemas.js';
import * as thingsRepo from '../registry/things.repository.js';
import type { Executor } from '../store/database.js';
import { decodeToken, DEFAULT_PAGE_SIZE, toPage } from '../store/pagination.js';
import { MAX_RESULTS_RULE, validate } from '../validation.js';
import * as repo from './certificates.repository.js';
import { THING_PRINCIPAL_TYPES, type ThingPrincipalType } from './certificates.tables.js';
import type { IdentityEvents } from './identity-events.js';

/** AttachThingPrincipal and friends (spec 2.2, 2.7): the principal is a certificate ARN in x-amzn-principal. */
export class PrincipalsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly events: IdentityEvents,
  ) {}

  /** The certificate id named by a principal ARN; only X.509 certificates are principals here. */
  private certificateIdOf(principal: string): string {
    const parsed = this.ctx.arns.parseIot(principal);
    if (!parsed || parsed.resource !== 'cert' || !/^[a-f0-9]{64}$/i.test(parsed.id)) {
      throw new ServiceError('InvalidRequest', `The principal ${principal} is not a certificate ARN of this account.`);
    }
    return parsed.id.toLowerCase();
  }

  private async requireThing(db: Executor, thingName: string): Promise<void> {
    if (!(await thingsRepo.findThing(db, thingName))) {
      throw new ServiceError('ResourceNotFound', `Thing ${thingName} cannot be found.`);
    }
  }

  private checkInput(thingName: string, principal: string | undefined): void {
    validate((v) => {
      checkName(v, 'thingName', thingName);
      if (v.required('principal', principal)) v.string('principal', principal, { min: 1 });
    });
  }

  async attachThingPrincipal(thingName: string, principal: string | undefined, thingPrincipalType?: string) {
    this.checkInput(thingName, principal);
    validate((v) => v.string('thingPrincipalType', thingPrincipalType, { enum: THING_PRINCIPAL_TYPES }));
    const certificateId = this.certificateIdOf(principal!);
    const type = (thingPrincipalType ?? 'NON_EXCLUSIVE_THING') as ThingPrincipalType;
    await this.ctx.db.transaction().execute(async (trx) => {
      await this.requireThing(trx, thingName);
      if (!(await repo.findCertificate(trx, certificateId))) {
        throw new ServiceError('ResourceNotFound', `The certificate given in the principal does not exist.`);
      }
      const others = (await repo.thingsOfCertificate(trx, certificateId, { limit: 250 })).filter(
        (r) => r.thing_name !== thingName,
      );
      if (type === 'EXCLUSIVE_THING' && others.length > 0) {
        throw new ServiceError('InvalidRequest', `The principal is already attached to another thing.`);
      }
      if (others.some((r) => r.principal_type === 'EXCLUSIVE_THING')) {
        throw new ServiceError('InvalidRequest', `The principal is attached exclusively to another thing.`);
      }
      await repo.insertAttachment(trx, {
        thing_name: thingName,
        certificate_id: certificateId,
        principal_type: type,
        created_at: this.ctx.clock.now().getTime(),
      });
    });
    return {};
  }

  /** Detaching a principal that is not attached succeeds, as on AWS. */
  async detachThingPrincipal(thingName: string, principal: string | undefined) {
    this.checkInput(thingName, principal);
    const certificateId = this.certificateIdOf(principal!);
    await this.ctx.db.transaction().execute(async (trx) => {
      await this.requireThing(trx, thingName);
      await repo.deleteAttachment(trx, thingName, certificateId);
    });
    this.events.emit({ certificateId, thingName });
    return {};
  }

  async listThingPrincipals(input: { thingName: string; maxResults?: number; nextToken?: string }) {
    validate((v) => {
      checkName(v, 'thingName', input.thingName);
      v.number('maxResults', input.maxResults, MAX_RESULTS_RULE);
    });
    await this.requireThing(this.ctx.db, input.thingName);
    const limit = input.maxResults ?? DEFAULT_PAGE_SIZE;
    const after = decodeToken(input.nextToken, 1)?.[0];
    const rows = await repo.certificatesOfThing(this.ctx.db, input.thingName, {
      limit,
      ...(after !== undefined && { after: String(after) }),
    });
    const page = toPage(rows, limit, (r) => [r.certificate_id]);
    return {
      principals: page.items.map((r) => this.ctx.arns.cert(r.certificate_id)),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  async listPrincipalThings(input: { principal?: string; maxResults?: number; nextToken?: string }) {
    validate((v) => {
      if (v.required('principal', input.principal)) v.string('principal', input.principal, { min: 1 });
      v.number('maxResults', input.maxResults, MAX_RESULTS_RULE);
    });
    const certificateId = this.certificateIdOf(input.principal!);
    if (!(await repo.findCertificate(this.ctx.db, certificateId))) {
      throw new ServiceError('ResourceNotFound', `The certificate given in the principal does not exist.`);
    }
    const limit = input.maxResults ?? DEFAULT_PAGE_SIZE;
    const after = decodeToken(input.nextToken, 1)?.[0];
    const rows = await repo.thingsOfCertificate(this.ctx.db, certificateId, {
      limit,
      ...(after !== undefined && { after: String(after) }),
    });
    const page = toPage(rows, limit, (r) => [r.thing_name]);
    return {
      things: page.items.map((r) => r.thing_name),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  /** AWS refuses to delete a thing that still has principals attached. */
  readonly registryHooks: RegistryHooks = {
    beforeThingDeleted: async (trx, thingName) => {
      if (await repo.hasAttachments(trx, { thingName })) {
        throw new ServiceError(
          'InvalidRequest',
          `Cannot delete thing ${thingName}: detach all principals attached to it first.`,
        );
      }
    },
  };
}
