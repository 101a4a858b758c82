/**
 * `chimera inspect`: reads any backend's stores from the terminal, always read-only (the
 * inspection readers of src/ports/readers.ts: they take no lock and hold nothing that writes).
 *
 *   chimera inspect campaigns|tasks|queues|cache|memories|audit [--campaign ID] [--status S] [--limit N] [--json]
 *   chimera inspect queue NAME [--leased]
 *   chimera inspect task ID
 *   chimera inspect audit --verify
 *   chimera inspect memories --query "plain words" [--k N] [--persona ID] [--category C]   (inspect-memory-search.ts)
 *
 * `--json` prints one JSON object. A row that does not fit the expected shape is printed marked
 * (`!` and what is wrong), never dropped and never fatal. A store the deployment does not keep
 * (the audit log of a database Chimera's own services wrote) is said to be absent (`absent` in
 * the JSON), exit 0; `audit --verify` there exits 1: nothing was verified.
 */
import { CONNECTION_FLAG, CONNECTION_USAGE, connectionFlag } from './connection-flag.ts';
import { resolve } from 'node:path';
import { loadConfig, type ChimeraConfig } from '../../config/config.ts';
import { backendByKind, backendChoicesText, backendForMode, backendKinds, configForBackend, readOnlyView } from '../../config/backends/index.ts';
import { composeReaders } from '../../config/compose.ts';
import { READ_ONLY_FLAG } from './read-only.ts';
import { InspectSession, type Inspectable } from '../../app/inspect-session.ts';
import { CAMPAIGN_STATUSES, TASK_STATUSES } from '../../domain/schemas.ts';
import { READ_LIMIT_MAX, type Page, type ReadRow } from '../../ports/readers.ts';
import { UsageError, intFlag, type CliIo, type Command } from '../command.ts';
import { MEMORY_SEARCH_FLAGS, MEMORY_SEARCH_USAGE, categoryFlag, memorySearchRequest, searchMemoriesOutput, type MemorySearchRequest } from './inspect-memory-search.ts';

const WHATS = ['campaigns', 'tasks', 'queues', 'queue', 'cache', 'memories', 'audit', 'task'] as const;
type What = (typeof WHATS)[number];

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Read a backend\'s campaigns, tasks, queues, cache, memories or audit log (read-only)',
  get usage() {
    return [
      '  chimera inspect campaigns|tasks|queues|cache|memories|audit [--campaign ID] [--status S] [--persona ID]',
      '                  [--category C] [--limit N] [--cursor C] [--json]   (--category: memories only)',
      '  chimera inspect queue NAME [--leased]      one queue\'s waiting (or leased) items',
      '  chimera inspect task ID                    one task with its audit history',
      '  chimera inspect audit --verify             every audit chain verified, per campaign',
      ...MEMORY_SEARCH_USAGE,
      `  common: [--backend ${backendChoicesText()}] [--db FILE] [--config FILE] [--connection NAME] [--read-only]`,
      CONNECTION_USAGE,
      '  Always read-only: nothing is written, no lock is taken. --json prints one JSON object.',
    ].join('\n');
  },
  allowPositionals: true,
  options: {
    backend: { type: 'string' },
    db: { type: 'string' },
    config: { type: 'string' },
    campaign: { type: 'string' },
    status: { type: 'string' },
    persona: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    leased: { type: 'boolean', default: false },
    verify: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    ...MEMORY_SEARCH_FLAGS,
    // accepted for symmetry with the other commands: inspect is always read-only
    ...READ_ONLY_FLAG,
    ...CONNECTION_FLAG,
  },
  async run({ values, positionals }, io) {
    const [whatArg, arg, ...extra] = positionals;
    if (!whatArg) throw new UsageError(`say what to inspect: ${WHATS.join(', ')}`);
    if (!(WHATS as readonly string[]).includes(whatArg)) throw new UsageError(`cannot inspect "${whatArg}": one of ${WHATS.join(', ')}`);
    const what = whatArg as What;
    const needsArg = what === 'queue' || what === 'task';
    if (needsArg && !arg) throw new UsageError(`inspect ${what} needs a ${what === 'queue' ? 'queue NAME (e.g. task_queue:<campaign id>)' : 'task ID'}`);
    if (!needsArg && arg !== undefined) throw new UsageError(`inspect ${what} takes no argument, got "${arg}"`);
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (values.verify && what !== 'audit') throw new UsageError('--verify applies to inspect audit only');
    if (values.leased && what !== 'queue') throw new UsageError('--leased applies to inspect queue only');
    if (values.category !== undefined && what !== 'memories') throw new UsageError('--category applies to inspect memories only');
    const search = memorySearchRequest(what, values);
    const limit = intFlag(values, 'limit', 1, READ_LIMIT_MAX) ?? 50;
    const status = values.status === undefined ? undefined : String(values.status);
    if (status !== undefined) {
      const allowed: readonly string[] = what === 'campaigns' ? CAMPAIGN_STATUSES : what === 'tasks' ? TASK_STATUSES : [];
      if (!allowed.length) throw new UsageError('--status applies to inspect campaigns and inspect tasks only');
      if (!allowed.includes(status)) throw new UsageError(`--status must be one of ${allowed.join(', ')}, got "${status}"`);
    }
    const config = inspectConfig(values, io);
    const session = await InspectSession.open(() => composeReaders(config));
    try {
      const out = await inspect(session, what, arg, { limit, status, values, search, config, io });
      io.stdout.write(values.json ? JSON.stringify({ backend: session.kind, what, ...out.json }) + '\n' : out.text.join('\n') + '\n');
      return out.exit;
    } finally {
      await session.close();
    }
  },
};

/** The config to read: --backend (else the config's mode) with --db, made read-only. */
function inspectConfig(values: Record<string, unknown>, io: CliIo): ChimeraConfig {
  const flag = values.backend === undefined ? undefined : String(values.backend);
  if (flag !== undefined && !backendKinds().includes(flag)) throw new UsageError(`--backend must be one of ${backendKinds().join(', ')}, got "${flag}"`);
  const file = values.config === undefined ? undefined : resolve(io.cwd, String(values.config));
  const base = loadConfig({ file, env: io.env, ...connectionFlag(values, flag), ...(flag ? { overrides: { mode: backendByKind(flag).mode } } : {}) });
  const entry = backendForMode(base.mode);
  if (!entry.readers) throw new UsageError(`the ${entry.kind} backend ${entry.capabilities.durable ? 'cannot be inspected in this build' : 'keeps nothing outside the process that ran it: nothing to inspect'} (use --backend ${backendKinds().filter((k) => backendByKind(k).readers && backendByKind(k).capabilities.durable).join(' or ')})`);
  let config = base;
  if (values.db !== undefined) {
    if (!entry.files) throw new UsageError(`--db applies to backends that keep a file; ${entry.kind} keeps none`);
    config = configForBackend(base, entry.kind, resolve(io.cwd, String(values.db)));
  } else if (entry.files) config = configForBackend(base, entry.kind, resolve(io.cwd, entry.files.path(base)));
  return readOnlyView(config);
}

interface Output {
  readonly text: string[];
  readonly json: Record<string, unknown>;
  readonly exit: number;
}

interface Opts {
  readonly limit: number;
  readonly status: string | undefined;
  readonly values: Record<string, unknown>;
  /** `--query`: a nearest-neighbour search instead of the memories listing. */
  readonly search: MemorySearchRequest | null;
  readonly config: ChimeraConfig;
  readonly io: CliIo;
}

const short = (id: string | null | undefined): string => (id ? (id.length > 12 ? `${id.slice(0, 8)}…` : id) : '-');

/** A page's rows as lines (bad rows marked) and as JSON (bad rows as {ok:false, raw, problem}). */
function pageOut<T>(page: Page<T>, title: string, line: (v: T) => string): Output {
  const text = [title];
  for (const r of page.items) text.push(r.ok ? `  ${line(r.value)}` : `! ${r.problem} · ${JSON.stringify(r.raw).slice(0, 160)}`);
  if (!page.items.length) text.push('  (none)');
  if (page.next_cursor) text.push(`  … more: --cursor ${page.next_cursor}`);
  return { text, json: { items: page.items.map(rowJson), next_cursor: page.next_cursor }, exit: 0 };
}

const rowJson = <T,>(r: ReadRow<T>): unknown => (r.ok ? r.value : { ok: false, problem: r.problem, raw: r.raw });

/** The store each listing reads. */
const STORE_OF: Readonly<Record<What, Inspectable>> = { campaigns: 'state', tasks: 'state', task: 'state', queues: 'queues', queue: 'queues', cache: 'personaCache', memories: 'memory', audit: 'audit' };

async function inspect(s: InspectSession, what: What, arg: string | undefined, o: Opts): Promise<Output> {
  const absent = s.absent(STORE_OF[what]);
  if (absent !== null && !(what === 'audit' && o.values.verify)) return { text: [absent], json: { items: [], next_cursor: null, absent }, exit: 0 };
  const cursor = o.values.cursor === undefined ? null : String(o.values.cursor);
  const campaign_id = o.values.campaign === undefined ? undefined : String(o.values.campaign);
  const persona_id = o.values.persona === undefined ? undefined : String(o.values.persona);
  switch (what) {
    case 'campaigns': {
      const page = await s.campaigns({ cursor, limit: o.limit, ...(o.status ? { status: o.status as never } : {}) });
      return pageOut(page, 'campaigns (created_at, id):', (c) => `${c.id}  ${c.status.padEnd(9)} v${c.state_version}  ${c.created_at}  ${c.title}`);
    }
    case 'tasks': {
      const page = await s.tasks({ cursor, limit: o.limit, ...(campaign_id ? { campaign_id } : {}), ...(o.status ? { status: o.status as never } : {}) });
      return pageOut(page, 'tasks (created_at, id):', (t) => `${t.id}  ${t.role.padEnd(7)} ${t.status.padEnd(10)} campaign ${short(t.campaign_id)}  ${t.skill_name ?? ''}${t.confidence_score == null ? '' : `  confidence ${t.confidence_score}`}`);
    }
    case 'task': {
      const r = await s.task(arg as string, o.limit);
      if (!r) return { text: [`no task ${arg}`], json: { task: null }, exit: 1 };
      const text = r.task.ok ? [JSON.stringify(r.task.value, null, 2)] : [`! ${r.task.problem}`, JSON.stringify(r.task.raw, null, 2)];
      text.push('audit history (oldest first):');
      for (const e of r.history.items) text.push(e.ok ? `  #${e.value.seq} ${e.value.timestamp} ${e.value.actor} ${e.value.action} ${e.value.before_status ?? ''}→${e.value.after_status ?? ''}` : `! ${e.problem}`);
      const noAudit = s.absent('audit');
      if (noAudit !== null) text.push(`  (${noAudit})`);
      return { text, json: { task: rowJson(r.task), history: r.history.items.map(rowJson), history_next_cursor: r.history.next_cursor, ...(noAudit !== null ? { history_absent: noAudit } : {}) }, exit: 0 };
    }
    case 'queues': {
      const page = await s.queues({ cursor, limit: o.limit, now_ms: Date.now() });
      return pageOut(page, 'queues (ready / delayed / leased):', (q) => `${q.queue}  ${q.depth.ready} / ${q.depth.delayed} / ${q.depth.leased}  (${q.space})`);
    }
    case 'queue': {
      const name = arg as string;
      const space = name.startsWith('review_queue:') ? 'review' : 'task';
      const state = o.values.leased ? 'leased' : 'waiting';
      const page = await s.queueItems({ space, queue: name, state, cursor, limit: o.limit });
      const now = Date.now();
      return pageOut(page, `${name}: ${state} items${state === 'leased' ? ' (holder, expiry)' : ' (claim order)'}:`, (i) =>
        `${i.id}  attempts ${i.attempts}${i.consumer ? `  held by ${i.consumer}, expires in ${(((i.expires_at_ms ?? now) - now) / 1000).toFixed(1)} s` : ''}  ${JSON.stringify(i.payload).slice(0, 100)}`,
      );
    }
    case 'cache': {
      if (persona_id) {
        const r = await s.persona(persona_id);
        if (!r) return { text: [`persona_cache:${persona_id} is not cached`], json: { persona_id, traits: null }, exit: 1 };
        const text = r.ok ? [`persona_cache:${persona_id}`, ...Object.entries(r.value).map(([k, v]) => `  ${k}: ${v}`)] : [`! ${r.problem}`, JSON.stringify(r.raw)];
        return { text, json: { persona_id, traits: rowJson(r) }, exit: 0 };
      }
      const page = await s.personas({ cursor, limit: o.limit });
      return pageOut(page, 'persona_cache:{persona_id} (traits):', (p) => `${p.persona_id}  ${p.trait_count} traits`);
    }
    case 'memories': {
      if (o.search) return searchMemoriesOutput(s, o.config, o.search, o.io);
      const category = categoryFlag(o.values);
      const page = await s.memories({ cursor, limit: o.limit, ...(persona_id ? { persona_id } : {}), ...(category ? { categories: [category] } : {}) });
      return pageOut(page, 'PersonaMemory (timestamp, id):', (m) => `${m.id}  ${m.persona_id}  ${m.category.padEnd(12)} ${m.timestamp}  ${m.content.replace(/\s+/g, ' ').slice(0, 80)}`);
    }
    case 'audit': {
      if (o.values.verify) return verifyAll(s);
      const page = await s.audit({ cursor, limit: o.limit, ...(campaign_id ? { campaign_id } : {}) });
      return pageOut(page, 'audit log (newest first):', (e) => `#${e.seq} ${e.timestamp}  ${e.actor.padEnd(12)} ${e.action.padEnd(20)} ${e.entity_type} ${short(e.entity_id)}  ${e.before_status ?? ''}→${e.after_status ?? ''}`);
    }
  }
}

/** Every audit chain verified (the session walks the log page by page); reported per chain. */
async function verifyAll(s: InspectSession): Promise<Output> {
  const v = await s.verifyAudit();
  if (v.absent !== null) return { text: [`audit chains: NOT verified · nothing to verify: ${v.absent}`], json: { ok: false, checked: 0, malformed: 0, broken: null, chains: {}, absent: v.absent }, exit: 1 };
  const text = [`audit chains: ${v.ok ? 'verified' : 'NOT verified'} · ${v.checked} events · ${v.chains.length} chains${v.malformed ? ` · ${v.malformed} malformed rows` : ''}`];
  for (const c of v.chains) text.push(`  ${c.ok ? 'ok ' : 'BAD'} ${c.chain}  ${c.events} events`);
  if (v.broken) text.push(`  broken at seq ${v.broken.seq}: ${v.broken.reason}`);
  const chains = Object.fromEntries(v.chains.map((c) => [c.chain, { events: c.events, ok: c.ok }]));
  return { text, json: { ok: v.ok, checked: v.checked, malformed: v.malformed, broken: v.broken, chains }, exit: v.ok ? 0 : 1 };
}
