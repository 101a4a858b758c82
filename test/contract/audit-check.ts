/**
 * How the contract suites check an audit log: through `verifyAuditChain` in src/domain/audit.ts
 * over everything the store returns (one chain per campaign plus the run chain, and anchors).
 */
import { verifyAuditChain, type AuditVerification } from '../../src/domain/audit.ts';
import type { StateStore } from '../../src/ports/state-store.ts';

/** The verdict on the store's whole audit log. */
export async function auditVerifies(store: Pick<StateStore, 'readAudit'>): Promise<AuditVerification> {
  return verifyAuditChain(await store.readAudit());
}
