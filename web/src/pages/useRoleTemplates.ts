import { get, qs } from '../api/client';

interface Templates {
  trustPolicy: object;
  permissionPolicy: object;
}

/** The server's policy templates for a jobs role (this server's account and region filled in). */
export async function roleTemplates(bucket?: string): Promise<{ trust: string; permission: string }> {
  const t = await get<Templates>(`/role-templates${qs({ bucket })}`);
  return { trust: JSON.stringify(t.trustPolicy, null, 2), permission: JSON.stringify(t.permissionPolicy, null, 2) };
}
