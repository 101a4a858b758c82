/** The 'audit/…' channel: a filtered page of the audit trail, newest first, with the hash chain verified as it is read. */
import { verifyAuditChain } from '../../domain/audit.ts';
import type { ParsedArgsOf } from '../../shared/contract.ts';
import type { AuditPage, AuditRow } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';
import type { Session } from './session.ts';

type AuditContext = Pick<StudioContext, 'current'>;

export function auditChannels(ctx: AuditContext): NamespaceHandlers<'audit'> {
  return {
    'audit/list': async (a) => auditPage(ctx.current(), a),
  };
}

async function auditPage(s: Session, a: ParsedArgsOf<'audit/list'>): Promise<AuditPage> {
  // read what is new since the last call and extend the verification over it
  const prevSeq = s.audit.length;
  for (;;) {
    const page = await s.sim.ports.state.readAudit({ after_seq: s.audit.length, limit: 10_000 });
    if (page.length === 0) break;
    for (const e of page) s.audit.push(e);
  }
  if (s.audit.length > prevSeq && s.verification.ok) {
    const v = verifyAuditChain(s.audit.slice(prevSeq), s.auditHeads);
    s.auditHeads = v.heads;
    s.verification = { ok: v.ok, checked: s.verification.checked + v.checked, broken_at: v.broken_at, reason: v.reason, head_hash: v.head_hash };
  }
  const text = a.text?.toLowerCase();
  const filtered = s.audit.filter(
    (e) =>
      (!a.campaign_id || e.campaign_id === a.campaign_id) &&
      (!a.action || e.action === a.action) &&
      (!a.actor || e.actor === a.actor) &&
      (!text || e.entity_id.includes(text) || e.action.includes(text) || JSON.stringify(e.details ?? '').toLowerCase().includes(text)),
  );
  // newest first
  const events: AuditRow[] = [];
  for (let i = filtered.length - 1 - a.offset; i >= 0 && events.length < a.limit; i--) events.push(filtered[i] as AuditRow);
  return {
    total: filtered.length,
    events,
    verification: s.verification,
    actions: [...new Set(s.audit.map((e) => e.action))].sort(),
    actors: [...new Set(s.audit.map((e) => e.actor))].sort(),
  };
}
