/**
 * A writer that knows nothing of the studio: what one of Chimera's own services leaves in
 * Postgres and Redis when it follows the seed (/work/shared/seeds, "Database Strategy") and
 * nothing else. It imports no code of ours on purpose: the seed's DDL is copied here as the seed
 * prints it (no migrations, no audit or run tables, none of our columns), its queues are plain
 * `LPUSH`ed JSON lists, its persona cache `HSET` hashes.
 *
 * Besides the ordinary rows it writes the odd ones a real cluster ends up with, each named in
 * `SeedWritten.odd` so a test can look for it: a task whose status is not one of ours, a
 * campaign whose columns are NULL (the seed's DDL allows it), a queue element that is not JSON,
 * a JSON queue element missing fields, a task_queue key that is not a LIST, and a persona_cache
 * key of the wrong Redis type.
 *
 * `seedTables` and `keysUnder` say what is there afterwards (every table of the database, every
 * key under a prefix), so a test can check that an inspection created nothing.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

/** The seed's DDL, verbatim (Phase 2, "PostgreSQL (Transactional State)"). */
export const SEED_DDL = `
-- Campaigns table
CREATE TABLE campaigns (
    id UUID PRIMARY KEY,
    title VARCHAR(255),
    goal TEXT,
    status VARCHAR(20),
    state_version INTEGER,
    created_at TIMESTAMP
);

-- Tasks table
CREATE TABLE tasks (
    id UUID PRIMARY KEY,
    campaign_id UUID REFERENCES campaigns(id),
    role VARCHAR(20),
    input_data JSONB,
    output_data JSONB,
    confidence_score FLOAT,
    status VARCHAR(20)
);
`;

/** The seed's tables, and nothing else a seed-only database holds. */
export const SEED_TABLES = ['campaigns', 'tasks'] as const;

interface SeedCampaign {
  readonly id: string;
  readonly title: string | null;
  readonly goal: string | null;
  readonly status: string | null;
  readonly state_version: number | null;
  readonly created_at: string | null;
}

interface SeedTask {
  readonly id: string;
  readonly campaign_id: string;
  readonly role: string;
  readonly input_data: unknown;
  readonly output_data: unknown;
  readonly confidence_score: number | null;
  readonly status: string;
}

// fixed ids, so a test and a person reading its failure see the same rows every run
const C_DENIM = '3b0e6f5a-1c2d-4e8f-9a01-0000000000c1';
const C_LINEN = '3b0e6f5a-1c2d-4e8f-9a01-0000000000c2';
const C_BLANK = '3b0e6f5a-1c2d-4e8f-9a01-0000000000c3';
const T = (n: number): string => `7d4c2b1a-5e6f-4a8b-9c0d-${String(n).padStart(12, '0')}`;

const CAMPAIGNS: readonly SeedCampaign[] = [
  { id: C_DENIM, title: 'Spring denim drop', goal: 'Launch the repaired-denim capsule with three short videos and a carousel', status: 'ACTIVE', state_version: 4, created_at: '2026-01-05 09:00:00' },
  { id: C_LINEN, title: 'Summer linen teaser', goal: 'Tease the linen line to the existing audience before the drop', status: 'COMPLETED', state_version: 9, created_at: '2026-01-06 14:30:00.5' },
  // odd: every column the seed lets be NULL is NULL
  { id: C_BLANK, title: null, goal: null, status: null, state_version: null, created_at: null },
];

const input = (task_id: string, skill_name: string, params: Record<string, unknown>, persona_id = 'aria') => ({ task_id, skill_name, params, persona_id });
const output = (task_id: string, skill_name: string, result: unknown, confidence_score: number, reasoning: string) => ({ task_id, skill_name, result, confidence_score, reasoning });

const TASKS: readonly SeedTask[] = [
  {
    id: T(1),
    campaign_id: C_DENIM,
    role: 'PLANNER',
    input_data: { goal: 'Launch the repaired-denim capsule with three short videos and a carousel', persona_id: 'aria' },
    output_data: { plan: ['trend_analysis', 'content_generation', 'persona_consistency_check'] },
    confidence_score: 1,
    status: 'COMPLETED',
  },
  {
    id: T(2),
    campaign_id: C_DENIM,
    role: 'WORKER',
    input_data: input(T(2), 'trend_analysis', { platform: 'tiktok', window_days: 7, topics: ['visible mending', 'denim'] }),
    output_data: output(T(2), 'trend_analysis', { trends: [{ tag: '#visiblemending', growth: 0.42 }, { tag: '#denimrepair', growth: 0.17 }] }, 0.93, 'Two rising tags match the persona.'),
    confidence_score: 0.93,
    status: 'COMPLETED',
  },
  {
    id: T(3),
    campaign_id: C_DENIM,
    role: 'WORKER',
    input_data: input(T(3), 'content_generation', { format: 'short_video_script', length_s: 30 }),
    output_data: output(T(3), 'content_generation', { text: 'Three stitches, one story: the jeans that outlived two winters.' }, 0.81, 'On voice; mentions a price claim the Judge may want a person to see.'),
    confidence_score: 0.81,
    status: 'ESC_HITL',
  },
  {
    id: T(4),
    campaign_id: C_DENIM,
    role: 'WORKER',
    input_data: input(T(4), 'content_generation', { format: 'carousel', slides: 5 }),
    output_data: null,
    confidence_score: null,
    status: 'PENDING',
  },
  {
    id: T(5),
    campaign_id: C_LINEN,
    role: 'JUDGE',
    input_data: { task_id: T(6), persona_id: 'nova' },
    output_data: { decision: 'approve', score: 0.95 },
    confidence_score: 0.95,
    status: 'COMPLETED',
  },
  {
    id: T(6),
    campaign_id: C_LINEN,
    role: 'WORKER',
    input_data: input(T(6), 'content_generation', { format: 'caption', max_chars: 220 }, 'nova'),
    output_data: output(T(6), 'content_generation', { text: 'Linen season is a mood, not a date.' }, 0.95, 'Matches tone and vocabulary.'),
    confidence_score: 0.95,
    status: 'COMPLETED',
  },
  // odd: a status this studio does not know
  {
    id: T(7),
    campaign_id: C_DENIM,
    role: 'WORKER',
    input_data: input(T(7), 'audience_research', { region: 'EU' }),
    output_data: null,
    confidence_score: null,
    status: 'RETRYING',
  },
];

/** What the writer wrote: the ids and keys a test looks for, and the odd ones by name. */
export interface SeedWritten {
  readonly campaigns: readonly { readonly id: string; readonly title: string | null; readonly status: string | null }[];
  readonly tasks: readonly { readonly id: string; readonly status: string; readonly input_data: unknown; readonly output_data: unknown }[];
  /** Every Redis key written (with the prefix). */
  readonly keys: readonly string[];
  /** Queue names as the seed's services name them (no prefix): task_queue:{id} and review_queue:{id} (the LISTs; not odd.wrongTypeQueue). */
  readonly queues: readonly string[];
  /** Persona ids with a persona_cache hash. */
  readonly personas: readonly string[];
  readonly odd: {
    /** The task whose status is not one of ours. */
    readonly unknownStatusTask: string;
    /** The campaign with NULL columns. */
    readonly blankCampaign: string;
    /** The queue holding a non-JSON element and the element. */
    readonly notJson: { readonly queue: string; readonly element: string };
    /** The queue holding a JSON element missing fields, and its task_id. */
    readonly missingFields: { readonly queue: string; readonly task_id: string };
    /** The key named like a task queue that is a Redis string, not a list (a task someone SET instead of LPUSHed), and its queue name. */
    readonly wrongTypeQueue: { readonly key: string; readonly queue: string };
    /** The persona_cache key that is a Redis string, not a hash, and its persona id. */
    readonly wrongType: { readonly key: string; readonly persona_id: string };
  };
}

/**
 * Writes the seed's layout and data into the (fresh, empty) database at `pgUrl` (its `public`
 * schema, as a service that never heard of schemas would) and into Redis under `prefix`.
 */
export async function writeSeedCluster(opts: { pgUrl: string; redisUrl: string; prefix: string }): Promise<SeedWritten> {
  const db = new pg.Client({ connectionString: opts.pgUrl });
  await db.connect();
  try {
    await db.query('BEGIN');
    await db.query(SEED_DDL);
    for (const c of CAMPAIGNS) {
      await db.query('INSERT INTO campaigns (id, title, goal, status, state_version, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [c.id, c.title, c.goal, c.status, c.state_version, c.created_at]);
    }
    for (const t of TASKS) {
      await db.query('INSERT INTO tasks (id, campaign_id, role, input_data, output_data, confidence_score, status) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        t.id,
        t.campaign_id,
        t.role,
        JSON.stringify(t.input_data),
        t.output_data === null ? null : JSON.stringify(t.output_data),
        t.confidence_score,
        t.status,
      ]);
    }
    await db.query('COMMIT');
  } finally {
    await db.end();
  }

  const p = opts.prefix;
  const taskQueue = `task_queue:${C_DENIM}`;
  const reviewQueue = `review_queue:${C_DENIM}`;
  const linenQueue = `task_queue:${C_LINEN}`;
  const stringQueue = `task_queue:${C_BLANK}`;
  const notJson = 'content_generation carousel for 7d4c2b1a (not JSON) {';
  const missing = { task_id: T(9), skill_name: 'trend_analysis' };
  const r = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await r.connect();
  try {
    // the seed's patterns: redis.lpush(f"task_queue:{campaign_id}", task_json) …
    await r.lpush(p + taskQueue, JSON.stringify(TASKS[3]?.input_data), JSON.stringify(input(T(8), 'persona_consistency_check', { against: 'SOUL' })));
    await r.lpush(p + reviewQueue, JSON.stringify(TASKS[2]?.output_data));
    await r.lpush(p + linenQueue, JSON.stringify(missing), notJson);
    // odd: a task someone SET where the queue's list belongs
    await r.set(p + stringQueue, JSON.stringify(input(T(10), 'trend_analysis', { platform: 'instagram' })));
    // … and redis.hset(f"persona_cache:{persona_id}", mapping=persona_traits)
    await r.hset(`${p}persona_cache:aria`, { name: 'Aria', voice: 'warm, wry, practical', beliefs: 'repair over replace', forbidden_topics: 'politics' });
    await r.hset(`${p}persona_cache:nova`, { name: 'Nova', voice: 'bright, concise', beliefs: 'slow fashion' });
    // odd: a persona cache entry someone SET as a string
    await r.set(`${p}persona_cache:legacy`, '{"name":"Legacy persona"}');
  } finally {
    r.disconnect();
  }
  return {
    campaigns: CAMPAIGNS.map((c) => ({ id: c.id, title: c.title, status: c.status })),
    tasks: TASKS.map((t) => ({ id: t.id, status: t.status, input_data: t.input_data, output_data: t.output_data })),
    keys: [taskQueue, reviewQueue, linenQueue, stringQueue, 'persona_cache:aria', 'persona_cache:nova', 'persona_cache:legacy'].map((k) => p + k).sort(),
    queues: [linenQueue, reviewQueue, taskQueue].sort(),
    personas: ['aria', 'nova'],
    odd: {
      unknownStatusTask: T(7),
      blankCampaign: C_BLANK,
      notJson: { queue: linenQueue, element: notJson },
      missingFields: { queue: linenQueue, task_id: missing.task_id },
      wrongTypeQueue: { key: p + stringQueue, queue: stringQueue },
      wrongType: { key: `${p}persona_cache:legacy`, persona_id: 'legacy' },
    },
  };
}

/** Every table of the database at `pgUrl`, as `schema.table`, outside the system schemas. */
export async function seedTables(pgUrl: string): Promise<string[]> {
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  try {
    const r = await db.query<{ t: string }>(
      `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    return r.rows.map((x) => x.t);
  } finally {
    await db.end();
  }
}

/** Every key under `prefix` (SCAN, never KEYS), sorted. */
export async function keysUnder(redisUrl: string, prefix: string): Promise<string[]> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await r.connect();
  try {
    const out = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) out.add(k);
    } while (cursor !== '0');
    return [...out].sort();
  } finally {
    r.disconnect();
  }
}
