import type { CaCertificatesService } from '../../../certificates/ca-certificates.service.js';
import type { CertificatesService } from '../../../certificates/certificates.service.js';
import type { PrincipalsService } from '../../../certificates/principals.service.js';
import type { RestJsonAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';
import { headerValue } from '../sigv4.js';

// Bodies are passed through as the service's input type: the services check every member's type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (req: AwsRequest): any => req.body ?? {};
const principal = (req: AwsRequest): string | undefined => headerValue(req.headers, 'x-amzn-principal');

export interface CertificateRouteDeps {
  certificates: CertificatesService;
  caCertificates: CaCertificatesService;
  principals: PrincipalsService;
}

/** spec 2.2 / botocore iot 2015-05-28: certificates, CA certificates and thing principals. */
export function registerCertificateRoutes(api: RestJsonAdapter, s: CertificateRouteDeps): void {
  api
    .add('POST', '/keys-and-certificate', 'CreateKeysAndCertificate', (r) =>
      s.certificates.createKeysAndCertificate({ setAsActive: r.query.bool('setAsActive') }),
    )
    .add('POST', '/certificate/register', 'RegisterCertificate', (r) =>
      s.certificates.registerCertificate({ ...body(r), setAsActive: r.query.bool('setAsActive') }),
    )
    .add('GET', '/certificates/{certificateId}', 'DescribeCertificate', (r) =>
      s.certificates.describeCertificate(r.params.certificateId!),
    )
    .add('PUT', '/certificates/{certificateId}', 'UpdateCertificate', async (r) => {
      await s.certificates.updateCertificate(r.params.certificateId!, r.query.string('newStatus'));
    })
    .add('DELETE', '/certificates/{certificateId}', 'DeleteCertificate', async (r) => {
      await s.certificates.deleteCertificate(r.params.certificateId!, r.query.bool('forceDelete'));
    })
    .add('GET', '/certificates', 'ListCertificates', (r) =>
      s.certificates.listCertificates({
        pageSize: r.query.int('pageSize'),
        marker: r.query.string('marker'),
        ascendingOrder: r.query.bool('isAscendingOrder'),
      }),
    )
    .add('GET', '/certificates-by-ca/{caCertificateId}', 'ListCertificatesByCA', (r) =>
      s.certificates.listCertificates({
        caCertificateId: r.params.caCertificateId!,
        pageSize: r.query.int('pageSize'),
        marker: r.query.string('marker'),
        ascendingOrder: r.query.bool('isAscendingOrder'),
      }),
    )
    .add('POST', '/cacertificate', 'RegisterCACertificate', (r) =>
      s.caCertificates.registerCaCertificate({
        ...body(r),
        setAsActive: r.query.bool('setAsActive'),
        allowAutoRegistration: r.query.bool('allowAutoRegistration'),
      }),
    )
    .add('GET', '/cacertificate/{caCertificateId}', 'DescribeCACertificate', (r) =>
      s.caCertificates.describeCaCertificate(r.params.caCertificateId!),
    )
    .add('PUT', '/cacertificate/{caCertificateId}', 'UpdateCACertificate', async (r) => {
      await s.caCertificates.updateCaCertificate({
        certificateId: r.params.caCertificateId!,
        newStatus: r.query.string('newStatus'),
        newAutoRegistrationStatus: r.query.string('newAutoRegistrationStatus'),
      });
    })
    .add('DELETE', '/cacertificate/{caCertificateId}', 'DeleteCACertificate', async (r) => {
      await s.caCertificates.deleteCaCertificate(r.params.caCertificateId!);
    })
    .add('GET', '/cacertificates', 'ListCACertificates', (r) =>
      s.caCertificates.listCaCertificates({
        pageSize: r.query.int('pageSize'),
        marker: r.query.string('marker'),
        ascendingOrder: r.query.bool('isAscendingOrder'),
      }),
    )
    .add('PUT', '/things/{thingName}/principals', 'AttachThingPrincipal', (r) =>
      s.principals.attachThingPrincipal(r.params.thingName!, principal(r), r.query.string('thingPrincipalType')),
    )
    .add('DELETE', '/things/{thingName}/principals', 'DetachThingPrincipal', (r) =>
      s.principals.detachThingPrincipal(r.params.thingName!, principal(r)),
    )
    .add('GET', '/things/{thingName}/principals', 'ListThingPrincipals', (r) =>
      s.principals.listThingPrincipals({
        thingName: r.params.thingName!,
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    )
    .add('GET', '/principals/things', 'ListPrincipalThings', (r) =>
      s.principals.listPrincipalThings({
        principal: principal(r),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    );
}
