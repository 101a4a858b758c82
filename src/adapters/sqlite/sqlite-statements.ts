/** The state store's prepared statements, prepared once per store. */
import type Database from 'better-sqlite3';
import { AUDIT_COLUMNS, TASK_FROM, TASK_SELECT } from './sqlite-rows.ts';

const CAMPAIGN_COLUMNS = 'id, title, goal, status, state_version, created_at, updated_at, persona_id';

/** Prepares every fixed statement of the state store. */
export function prepareStatements(db: Database.Database) {
  return {
    getCampaign: db.prepare(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?`),
    listCampaigns: db.prepare(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at, id`),
    listCampaignsByStatus: db.prepare(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE status = ? ORDER BY created_at, id`),
    insertCampaign: db.prepare(
      `INSERT INTO campaigns (${CAMPAIGN_COLUMNS}) VALUES (@id, @title, @goal, @status, @state_version, @created_at, @updated_at, @persona_id)`,
    ),
    getTask: db.prepare(`SELECT ${TASK_SELECT} FROM ${TASK_FROM} WHERE t.id = ?`),
    lastOutputSeq: db.prepare(`SELECT coalesce(max(seq), 0) FROM task_outputs`).pluck(),
    countTasks: db.prepare(`SELECT status, count(*) AS n FROM tasks GROUP BY status`),
    countTasksByCampaign: db.prepare(`SELECT status, count(*) AS n FROM tasks WHERE campaign_id = ? GROUP BY status`),
    taskExists: db.prepare(`SELECT 1 FROM tasks WHERE id = ?`).pluck(),
    /** The ids of a JSON array of task ids that have a row. */
    tasksExisting: db.prepare(`SELECT id FROM tasks WHERE id IN (SELECT value FROM json_each(?))`).pluck(),
    keyExists: db.prepare(`SELECT 1 FROM idempotency_keys WHERE key = ?`).pluck(),
    updateCampaign: db.prepare(`UPDATE campaigns SET title = ?, goal = ?, status = ?, updated_at = ?, state_version = ? WHERE id = ?`),
    listKeys: db.prepare(`SELECT key FROM idempotency_keys ORDER BY key`),
    listKeysAfter: db.prepare(`SELECT key FROM idempotency_keys WHERE key > ? ORDER BY key LIMIT ?`),
    countKeys: db.prepare(`SELECT count(*) AS n FROM idempotency_keys`),
    auditHead: db.prepare(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`),
    // positional: binding 14 named parameters from an object costs more than the insert itself
    insertAudit: db.prepare(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // each chain's head: SQLite takes the bare columns from the row that holds the max
    chainHeads: db.prepare(`SELECT coalesce(campaign_id, '') AS chain, max(chain_seq) AS chain_seq, hash FROM audit_log WHERE chain_seq > 0 GROUP BY campaign_id`),
    readAudit: db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`),
    readAuditByCampaign: db.prepare(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE campaign_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
  };
}

/** The prepared statements of one state store. */
export type Statements = ReturnType<typeof prepareStatements>;
