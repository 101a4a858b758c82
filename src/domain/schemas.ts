/**
 * The domain's records and their runtime schemas (DOMAIN.md). Field names follow the seed's
 * tables (`state_version`, `input_data`, …) so a record maps 1:1 onto a live row or key.
 * Timestamps are ISO-8601 strings from the injected clock, never from the wall clock.
 */
import { z } from 'zod';
import { ValidationError } from './errors.ts';

// src/shared (the UI's wire contract) keeps its own copies of these three lists, since the
// renderer cannot import the domain; test/layering/wire-copies.test.ts keeps them equal
export const CAMPAIGN_STATUSES = ['PLANNING', 'ACTIVE', 'PAUSED', 'COMPLETED'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export const TASK_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'ESC_HITL'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const MEMORY_CATEGORIES = ['Episodic', 'Semantic', 'SOUL'] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];
import { PERSONA_ID_MAX_CHARS, PersonaIdSchema, personaIdProblem, unsafeCharKind } from './persona-id.ts';

// the persona id rule: every persona_id below, SOUL.md ids, scenario personas, the CLI and the
// app's contract use this one rule (src/shared/persona-id.ts is the renderer's copy)
export { PERSONA_ID_MAX_CHARS, PersonaIdSchema, personaIdProblem, unsafeCharKind };

export const ROLES = ['PLANNER', 'WORKER', 'JUDGE'] as const;
export type Role = (typeof ROLES)[number];


export const SKILLS = [
  'trend_analysis',
  'audience_research',
  'content_generation',
  'persona_consistency_check',
] as const;
export type SkillName = (typeof SKILLS)[number];

const uuid = z.uuid();
const isoTime = z.iso.datetime({ offset: false });
const jsonValue: z.ZodType<unknown> = z.unknown();

export const CampaignSchema = z.strictObject({
  id: uuid,
  title: z.string().min(1, 'title is empty').max(255, 'title is longer than 255 characters'),
  goal: z.string().min(1, 'goal is empty').max(10_000),
  status: z.enum(CAMPAIGN_STATUSES),
  state_version: z.int().min(1),
  created_at: isoTime,
  updated_at: isoTime,
  persona_id: PersonaIdSchema,
});
export type Campaign = z.infer<typeof CampaignSchema>;

export const TaskSchema = z.strictObject({
  id: uuid,
  campaign_id: uuid,
  role: z.enum(ROLES),
  skill_name: z.string().min(1).max(64),
  input_data: jsonValue,
  output_data: jsonValue.nullable(),
  confidence_score: z.number().min(0).max(1).nullable(),
  status: z.enum(TASK_STATUSES),
  attempts: z.int().min(0),
  idempotency_key: z.string().min(1).max(200),
  depends_on: z.array(uuid),
  /** Lineage: a re-planned task keeps the branch of the task it replaces. */
  branch: z.string().min(1).max(64),
  /** How many times this branch has been re-planned before this task was made. */
  replans: z.int().min(0),
  /** The task this one replaces after a failure, or null. */
  supersedes: uuid.nullable(),
  created_at: isoTime,
  updated_at: isoTime,
});
export type Task = z.infer<typeof TaskSchema>;

/**
 * A campaign as an inspection reads it from a store the studio may not have written: the seed's
 * columns (id, title, goal, status, state_version, created_at) as the domain requires them, and
 * ours where they are kept. A row Chimera's own services wrote has no persona_id; it still fits.
 */
export const CampaignReadSchema = CampaignSchema.extend({ persona_id: PersonaIdSchema.nullable() });
export type CampaignRead = z.infer<typeof CampaignReadSchema>;

/**
 * A task as an inspection reads it: the seed's columns (id, campaign_id, role, input_data,
 * output_data, confidence_score, status) as the domain requires them; each of ours is null
 * where the store does not keep it (a table with only the seed's columns has no skill_name,
 * attempts, created_at, …). Wherever ours are kept they are checked as on write.
 */
export const TaskReadSchema = TaskSchema.extend({
  skill_name: TaskSchema.shape.skill_name.nullable(),
  attempts: TaskSchema.shape.attempts.nullable(),
  idempotency_key: TaskSchema.shape.idempotency_key.nullable(),
  depends_on: TaskSchema.shape.depends_on.nullable(),
  branch: TaskSchema.shape.branch.nullable(),
  replans: TaskSchema.shape.replans.nullable(),
  created_at: isoTime.nullable(),
  updated_at: isoTime.nullable(),
});
export type TaskRead = z.infer<typeof TaskReadSchema>;

export const WorkerTaskInputSchema = z.strictObject({
  task_id: uuid,
  skill_name: z.string().min(1),
  params: z.record(z.string(), jsonValue),
  persona_id: PersonaIdSchema,
});
export type WorkerTaskInput = z.infer<typeof WorkerTaskInputSchema>;

export const WorkerTaskOutputSchema = z.strictObject({
  task_id: uuid,
  skill_name: z.string().min(1),
  result: jsonValue,
  confidence_score: z.number().min(0).max(1),
  reasoning: z.string(),
});
export type WorkerTaskOutput = z.infer<typeof WorkerTaskOutputSchema>;

export const PersonaMemorySchema = z.strictObject({
  id: z.string().min(1).max(200),
  persona_id: PersonaIdSchema,
  content: z.string().min(1, 'memory content is empty'),
  category: z.enum(MEMORY_CATEGORIES),
  timestamp: isoTime,
});
export type PersonaMemory = z.infer<typeof PersonaMemorySchema>;

export const PersonaSchema = z.strictObject({
  id: PersonaIdSchema,
  name: z.string().min(1).max(255),
  voice: z.array(z.string().min(1)),
  style_rules: z.array(z.string().min(1)),
  beliefs: z.array(z.string().min(1)),
  forbidden_topics: z.array(z.string().min(1)),
  forbidden_words: z.array(z.string().min(1)),
  /** Words the persona's content draws on; derived from voice and beliefs when not given. */
  vocabulary: z.array(z.string().min(1)),
  /** The whole SOUL.md text, stored in persona memory with category SOUL. */
  soul: z.string().min(1),
});
export type Persona = z.infer<typeof PersonaSchema>;

export const AuditEventSchema = z.strictObject({
  /** Where the event sits in the store's log (its append order across all chains). */
  seq: z.int().min(1),
  /**
   * Its place in its chain (one chain per campaign, one for run-level events), from 1; 0 marks
   * an event written before chains were per campaign (one global chain, verified by seq).
   */
  chain_seq: z.int().min(0),
  id: uuid,
  actor: z.string().min(1).max(128),
  action: z.string().min(1).max(64),
  entity_type: z.enum(['campaign', 'task', 'persona', 'memory', 'system']),
  entity_id: z.string().min(1).max(200),
  campaign_id: uuid.nullable(),
  before_status: z.string().nullable(),
  after_status: z.string().nullable(),
  state_version: z.int().nullable(),
  timestamp: isoTime,
  details: jsonValue,
  prev_hash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
/** What an actor hands to `appendAudit`; the store assigns seq, chain_seq, prev_hash and hash. */
export type AuditDraft = Omit<AuditEvent, 'seq' | 'chain_seq' | 'prev_hash' | 'hash'>;

/** Formats zod issues as `path: message; path: message`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses `value` with `schema` or throws a ValidationError naming `what` and every bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new ValidationError(`invalid ${what}: ${formatIssues(r.error)}`, r.error.issues);
  }
  return r.data;
}
