/**
 * The engine's configuration and the scenario format. Thresholds, fault rates, capacities
 * and timings are all configuration; nothing in the engine hard-codes them.
 */
import { z } from 'zod';
import { MEMORY_CATEGORIES } from '../domain/schemas.ts';

const rate = z.number().min(0).max(1);

export const FaultsSchema = z.strictObject({
  /** A skill call fails in a way a retry can fix (level 1). */
  transient_error: rate.default(0),
  /** A skill call fails for good: an output with confidence 0 (level 2 after the Judge). */
  skill_failure: rate.default(0),
  /** A worker takes `slow_extra_ticks` longer; past the lease the task is redelivered. */
  slow_worker: rate.default(0),
  /** The output touches politics, health or financial claims (forced human review). */
  sensitive_topic: rate.default(0),
  /** The output drifts off-persona with low confidence. */
  low_quality: rate.default(0),
});
export type Faults = z.infer<typeof FaultsSchema>;

export const HumanSchema = z.strictObject({
  /** Simulate a reviewer who decides escalated items after `delay_ticks`. */
  enabled: z.boolean().default(false),
  delay_ticks: z.int().min(0).max(10_000).default(3),
  approve: rate.default(0.8),
  edit: rate.default(0.1),
  /** The rest of the probability mass rejects. */
});

export const EngineConfigSchema = z.strictObject({
  seed: z.int().min(0).max(2 ** 31 - 1).default(1),
  workers: z.int().min(1).max(256).default(4),
  judges: z.int().min(1).max(64).default(1),
  /** Actions a worker may take per tick (finish one task, claim the next). */
  worker_actions_per_tick: z.int().min(1).max(1000).default(2),
  /** Reviews a judge may decide per tick. */
  judge_actions_per_tick: z.int().min(1).max(10_000).default(8),
  tick_ms: z.int().min(1).max(3_600_000).default(100),
  lease_ticks: z.int().min(1).max(10_000).default(5),
  max_ticks: z.int().min(1).max(10_000_000).default(100_000),
  thresholds: z
    .strictObject({ approve: rate.default(0.9), review: rate.default(0.7) })
    .refine((t) => t.review <= t.approve, 'thresholds.review must not exceed thresholds.approve')
    .default({ approve: 0.9, review: 0.7 }),
  retry: z
    .strictObject({ max_attempts: z.int().min(1).max(20).default(3), backoff_ticks: z.int().min(0).max(1000).default(1) })
    .default({ max_attempts: 3, backoff_ticks: 1 }),
  /** Re-plans per branch before escalating to a human (level 3). */
  max_replans: z.int().min(0).max(20).default(2),
  /** Ticks a judge deliberates between reading and committing; > 0 exposes OCC conflicts. */
  judge_think_ticks: z.int().min(0).max(1000).default(0),
  slow_extra_ticks: z.int().min(1).max(10_000).default(8),
  judge: z
    .strictObject({
      weight_confidence: rate.default(0.5),
      weight_semantic: rate.default(0.5),
      /** Similarity mapped to a semantic score of 0 and of 1. */
      semantic_floor: z.number().min(-1).max(1).default(0),
      semantic_ceiling: z.number().min(-1).max(1).default(0.25),
      /** Memories the Judge searches for and records with its verdict; the similarity is the mean of the top 3. */
      memories_k: z.int().min(1).max(100).default(3),
      /** Which memories the Judge compares output with. Episodic memory grows with every approval. */
      memory_categories: z.array(z.enum(MEMORY_CATEGORIES)).min(1).default(['SOUL', 'Semantic']),
      max_chars: z.int().min(1).default(400),
    })
    .default({ weight_confidence: 0.5, weight_semantic: 0.5, semantic_floor: 0, semantic_ceiling: 0.25, memories_k: 3, memory_categories: ['SOUL', 'Semantic'], max_chars: 400 }),
  faults: FaultsSchema.default({ transient_error: 0, skill_failure: 0, slow_worker: 0, sensitive_topic: 0, low_quality: 0 }),
  human: HumanSchema.default({ enabled: false, delay_ticks: 3, approve: 0.8, edit: 0.1 }),
});
export type EngineConfig = z.infer<typeof EngineConfigSchema>;

export const ScenarioCampaignSchema = z.strictObject({
  title: z.string().min(1).max(255),
  goal: z.string().min(1),
  persona: z.string().min(1),
  /** Content pieces the Planner asks for; the DAG has 2 + 2 × pieces worker tasks. */
  content_pieces: z.int().min(1).max(100_000).default(3),
});

export const OperatorActionSchema = z.strictObject({
  tick: z.int().min(0),
  action: z.enum(['pause', 'resume']),
  /** Index into the scenario's campaigns. */
  campaign: z.int().min(0),
});

export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  /** Persona ids (resolved to SOUL.md files by the loader) or full persona objects. */
  personas: z.array(z.string().min(1)).min(1),
  campaigns: z.array(ScenarioCampaignSchema).min(1),
  memories: z
    .array(z.strictObject({ persona: z.string().min(1), category: z.enum(MEMORY_CATEGORIES), content: z.string().min(1) }))
    .default([]),
  operator: z.array(OperatorActionSchema).default([]),
  /** Engine settings this scenario needs (faults, judges, …); command-line flags override them. */
  engine: z.record(z.string(), z.unknown()).default({}),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioCampaign = z.infer<typeof ScenarioCampaignSchema>;
