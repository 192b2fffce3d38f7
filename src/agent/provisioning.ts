import {
  AddThingToThingGroupCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DescribeThingCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';

/**
 * What a fleet provisioner does for one device, over the AWS IoT API (spec 2.7): the thing (kept
 * if it exists), a key pair and an ACTIVE certificate signed by the server CA, attached to the
 * thing, and optionally group memberships.
 */
export interface ProvisionedDevice {
  thingName: string;
  thingArn: string;
  certificateId: string;
  certificateArn: string;
  cert: string;
  key: string;
}

export interface ProvisionOptions {
  attributes?: Record<string, string>;
  groups?: string[];
}

async function ensureThing(iot: IoTClient, thingName: string, attributes?: Record<string, string>): Promise<string> {
  try {
    const r = await iot.send(
      new CreateThingCommand({ thingName, ...(attributes && { attributePayload: { attributes } }) }),
    );
    return r.thingArn!;
  } catch (err) {
    // An existing thing with other attributes is kept as it is: provisioning adds a certificate.
    if ((err as Error).name !== 'ResourceAlreadyExistsException') throw err;
    return (await iot.send(new DescribeThingCommand({ thingName }))).thingArn!;
  }
}

export async function provisionDevice(
  iot: IoTClient,
  thingName: string,
  o: ProvisionOptions = {},
): Promise<ProvisionedDevice> {
  const thingArn = await ensureThing(iot, thingName, o.attributes);
  const keys = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  await iot.send(new AttachThingPrincipalCommand({ thingName, principal: keys.certificateArn! }));
  for (const group of o.groups ?? []) {
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName }));
  }
  return {
    thingName,
    thingArn,
    certificateId: keys.certificateId!,
    certificateArn: keys.certificateArn!,
    cert: keys.certificatePem!,
    key: keys.keyPair!.PrivateKey!,
  };
}
