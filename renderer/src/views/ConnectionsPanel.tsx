/**
 * Connections: named Postgres + Redis + Weaviate profiles to inspect and, once a person says so,
 * to run on. A secret is typed only where the app can seal it (the desktop app's OS keychain);
 * otherwise the form asks for an environment variable or a file that holds it. No secret ever
 * comes back from the core: the list says only where each one comes from.
 *
 * A profile starts read-only. Making it read-write asks first, naming the cluster it would let
 * the studio write to.
 */
import { useState, type FormEvent } from 'react';
import { SECRET_FIELDS, type ConnectionView, type SecretFieldName } from '../../../src/shared/types.ts';
import type { ConnectionReport } from '../../../src/shared/connection-report.ts';
import { useChannel, useStudio } from '../lib/studio.tsx';

const SERVICE_LABEL = { postgres: 'Postgres', redis: 'Redis', weaviate: 'Weaviate' } as const;
const REASON_LABEL: Record<string, string> = {
  config: 'settings',
  dns: 'name resolution',
  refused: 'refused',
  timeout: 'timed out',
  auth: 'authentication',
  tls: 'TLS',
  version: 'version',
  protocol: 'not that service',
  other: 'failed',
};

/** What "Test connection" found, one row per service: which failed and why, in plain words. */
export function ConnectionReportView({ name, report }: { name: string; report: ConnectionReport }) {
  return (
    <div className={`panel connection-report ${report.ok ? 'ok' : 'failed'}`} role="region" aria-label={`Connection test of ${name}`}>
      <b>{report.ok ? `Every service of ${name} answers` : report.services.length ? `${name}: ${report.services.filter((s) => !s.ok).map((s) => SERVICE_LABEL[s.service]).join(' and ')} failed` : `${name}: nothing to test`}</b>
      <ul>
        {report.services.map((s) => (
          <li key={s.service} data-testid={`check-${s.service}`} data-ok={s.ok}>
            <span className={`badge ${s.ok ? 'st-COMPLETED' : 'st-FAILED'}`}>{s.ok ? 'ok' : REASON_LABEL[s.reason ?? 'other']}</span> <b>{SERVICE_LABEL[s.service]}</b>{' '}
            <span className="mono small">{s.target}</span>
            {s.server_version && <span className="small muted"> · version {s.server_version}</span>}
            {s.latency_ms !== null && <span className="small muted"> · {s.latency_ms.toFixed(1)} ms</span>}
            <div className="small">{s.message}</div>
            {s.notes.length > 0 && (
              <ul className="small muted">
                {s.notes.map((n) => (
                  <li key={n}>{n}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

const SECRET_LABEL: Record<SecretFieldName, string> = { postgres_password: 'Postgres password', redis_password: 'Redis password', weaviate_api_key: 'Weaviate API key' };

type SecretMode = 'none' | 'keep' | 'value' | 'env' | 'file';

function secretText(s: ConnectionView['secrets'][SecretFieldName]): string {
  if (!s) return 'none';
  if (s.kind === 'env') return `environment ${s.env}`;
  if (s.kind === 'file') return `file ${s.file}`;
  return 'sealed in the keychain';
}

/** host:port of a URL, for the confirm question. */
function hostOf(url: string | null): string {
  if (!url) return '';
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

interface FormState {
  name: string;
  postgres_url: string;
  schema: string;
  redis_url: string;
  redis_prefix: string;
  queues: 'redis' | 'postgres';
  weaviate_url: string;
  weaviate_grpc_port: string;
  secrets: Record<SecretFieldName, { mode: SecretMode; text: string }>;
}

const EMPTY: FormState = {
  name: '',
  postgres_url: '',
  schema: 'public',
  redis_url: '',
  redis_prefix: '',
  queues: 'redis',
  weaviate_url: '',
  weaviate_grpc_port: '',
  secrets: { postgres_password: { mode: 'none', text: '' }, redis_password: { mode: 'none', text: '' }, weaviate_api_key: { mode: 'none', text: '' } },
};

function formOf(c: ConnectionView): FormState {
  const secrets = { ...EMPTY.secrets };
  for (const f of SECRET_FIELDS) secrets[f] = c.secrets[f] ? { mode: 'keep', text: '' } : { mode: 'none', text: '' };
  return {
    name: c.name,
    postgres_url: c.postgres_url ?? '',
    schema: c.schema,
    redis_url: c.redis_url ?? '',
    redis_prefix: c.redis_prefix,
    queues: c.queues,
    weaviate_url: c.weaviate_url ?? '',
    weaviate_grpc_port: c.weaviate_grpc_port === null ? '' : String(c.weaviate_grpc_port),
    secrets,
  };
}

export function ConnectionsPanel({ onInspect }: { onInspect?: (name: string) => void }) {
  const { api, act, toast } = useStudio();
  const list = useChannel('connections/list', {});
  const [form, setForm] = useState<FormState | null>(null);
  const [editing, setEditing] = useState<ConnectionView | null>(null);
  const [asking, setAsking] = useState<ConnectionView | null>(null);
  const [tested, setTested] = useState<{ name: string; report: ConnectionReport } | null>(null);
  const [testing, setTesting] = useState<string | null>(null);
  const vault = list.data?.vault ?? null;

  const draftOf = (form: FormState) => {
    const secrets: Record<string, unknown> = {};
    for (const f of SECRET_FIELDS) {
      const s = form.secrets[f];
      secrets[f] = s.mode === 'none' ? null : s.mode === 'keep' ? { keep: true } : s.mode === 'value' ? { value: s.text } : s.mode === 'env' ? { env: s.text.trim() } : { file: s.text.trim() };
    }
    return {
      name: form.name.trim(),
      postgres_url: form.postgres_url.trim(),
      redis_url: form.redis_url.trim() || null,
      weaviate_url: form.weaviate_url.trim() || null,
      weaviate_grpc_port: form.weaviate_grpc_port ? Number(form.weaviate_grpc_port) : null,
      schema: form.schema.trim() || 'public',
      redis_prefix: form.redis_prefix,
      queues: form.queues,
      secrets: secrets as never,
    };
  };
  /** Tests a saved profile (by name) or the form's draft (before saving). */
  const test = async (name: string, draft?: ReturnType<typeof draftOf>) => {
    setTesting(name);
    setTested(null);
    const r = await act(() => api['connections/test'](draft ?? { name }));
    setTesting(null);
    if (r) setTested({ name, report: r });
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!form) return;
    const r = await act(() => api['connections/save'](draftOf(form)));
    if (r) {
      toast('info', `Saved connection ${form.name} (${r.connections.find((c) => c.name === form.name.trim())?.read_only ? 'read-only' : 'read-write'})`);
      setForm(null);
      setEditing(null);
      list.reload();
    }
  };
  const setReadOnly = async (c: ConnectionView, read_only: boolean) => {
    setAsking(null);
    const r = await act(() => api['connections/set-read-only']({ name: c.name, read_only, ...(read_only ? {} : { confirm: true }) }));
    if (r) {
      toast('info', `Connection ${c.name} is now ${read_only ? 'read-only' : 'read-write'}`);
      list.reload();
    }
  };
  const remove = async (c: ConnectionView) => {
    const r = await act(() => api['connections/delete']({ name: c.name }));
    if (r) list.reload();
  };
  const use = async (c: ConnectionView) => {
    const r = await act(() => api['backend/switch']({ kind: 'production', name: c.name }));
    if (r) toast('info', `Switched to ${r.description}`);
  };
  const field = (key: Exclude<keyof FormState, 'secrets' | 'queues'>, label: string, opts: { placeholder?: string; required?: boolean; mono?: boolean } = {}) => (
    <label>
      {label}
      <input
        value={form?.[key] ?? ''}
        onChange={(e) => setForm((f) => (f ? { ...f, [key]: e.target.value } : f))}
        placeholder={opts.placeholder}
        required={opts.required}
        className={opts.mono ? 'mono' : undefined}
        disabled={key === 'name' && !!editing}
        spellCheck={false}
        autoComplete="off"
      />
    </label>
  );

  return (
    <div className="panel" aria-labelledby="connections-h">
      <h2 id="connections-h">Connections</h2>
      <p className="muted small">
        Postgres, Redis and Weaviate clusters to inspect. A new connection is read-only: the studio reads it and never writes.{' '}
        {vault ? `Typed secrets are sealed with ${vault}.` : 'This app keeps no secrets: give each one as an environment variable or a file that holds it.'}
      </p>
      {list.data?.notices.map((n) => (
        <p key={n} className="notice" role="status">
          {n}
        </p>
      ))}
      {asking && (
        <div className="panel notice confirm" role="alertdialog" aria-labelledby="rw-h" aria-describedby="rw-d">
          <b id="rw-h">Let the studio write to {asking.name}?</b>
          <span id="rw-d">
            Simulations run on it will write campaigns, tasks, queues and audit events to Postgres {hostOf(asking.postgres_url)}
            {asking.redis_url ? ` and Redis ${hostOf(asking.redis_url)}` : ''}
            {asking.schema !== 'public' ? ` (schema ${asking.schema})` : ''}. Other processes reading it will see them.
          </span>
          <button type="button" className="primary" onClick={() => void setReadOnly(asking, false)}>
            Make read-write
          </button>
          <button type="button" onClick={() => setAsking(null)}>
            Cancel
          </button>
        </div>
      )}
      <ul className="profiles" aria-label="Connection profiles">
        {(list.data?.connections ?? []).map((c) => (
          <li key={c.name} data-testid="connection">
            <b>{c.name}</b> <span className={`badge ${c.read_only ? 'st-COMPLETED' : 'st-FAILED'}`}>{c.read_only ? 'read-only' : 'read-write'}</span>
            {c.source === 'config' && <span className="badge">config file</span>}{' '}
            <span className="mono muted small">
              {c.postgres_url}
              {c.schema !== 'public' ? ` (schema ${c.schema})` : ''}
              {c.redis_url ? ` · ${c.redis_url}${c.redis_prefix ? ` prefix ${c.redis_prefix}` : ''}` : ' · queues in Postgres'}
              {c.weaviate_url ? ` · ${c.weaviate_url}` : ''}
            </span>
            <div className="small muted">
              {SECRET_FIELDS.filter((f) => c.secrets[f]).map((f) => (
                <span key={f}>
                  {SECRET_LABEL[f]}: {secretText(c.secrets[f])}.{' '}
                </span>
              ))}
            </div>
            <span className="toolbar small">
              <button type="button" onClick={() => void test(c.name)} disabled={testing !== null} aria-label={`Test connection ${c.name}`}>
                {testing === c.name ? 'Testing…' : 'Test connection'}
              </button>
              {onInspect && (
                <button type="button" onClick={() => onInspect(c.name)} aria-label={`Inspect connection ${c.name}`}>
                  Inspect
                </button>
              )}
              <button type="button" onClick={() => void use(c)} aria-label={`Run simulations on connection ${c.name}`}>
                Use for simulations
              </button>
              {c.source === 'app' &&
                (c.read_only ? (
                  <button type="button" onClick={() => setAsking(c)} aria-label={`Make connection ${c.name} read-write`}>
                    Make read-write…
                  </button>
                ) : (
                  <button type="button" onClick={() => void setReadOnly(c, true)} aria-label={`Make connection ${c.name} read-only`}>
                    Make read-only
                  </button>
                ))}
              {c.source === 'app' && (
                <>
                  <button
                    type="button"
                    onClick={() => {
                      setEditing(c);
                      setForm(formOf(c));
                    }}
                    aria-label={`Edit connection ${c.name}`}
                  >
                    Edit
                  </button>
                  <button type="button" onClick={() => void remove(c)} aria-label={`Delete connection ${c.name}`}>
                    Delete
                  </button>
                </>
              )}
            </span>
          </li>
        ))}
        {list.data && list.data.connections.length === 0 && <li className="muted">No connection yet.</li>}
      </ul>
      {tested && <ConnectionReportView name={tested.name} report={tested.report} />}
      {!form && (
        <button type="button" onClick={() => setForm(EMPTY)}>
          New connection…
        </button>
      )}
      {form && (
        <form className="form grow" onSubmit={(e) => void save(e)} aria-label={editing ? `Edit connection ${editing.name}` : 'New connection'}>
          {field('name', 'Name', { required: true, placeholder: 'prod-eu' })}
          {field('postgres_url', 'Postgres URL', { required: true, placeholder: 'postgres://chimera@db.example:5432/chimera', mono: true })}
          {field('schema', 'Postgres schema')}
          <label>
            Queues
            <select value={form.queues} onChange={(e) => setForm({ ...form, queues: e.target.value as FormState['queues'] })}>
              <option value="redis">Redis lists (the seed&apos;s layout)</option>
              <option value="postgres">Postgres table</option>
            </select>
          </label>
          {field('redis_url', 'Redis URL', { placeholder: 'redis://cache.example:6379', mono: true })}
          {field('redis_prefix', 'Redis key prefix')}
          {field('weaviate_url', 'Weaviate URL (optional)', { placeholder: 'https://memory.example', mono: true })}
          {field('weaviate_grpc_port', 'Weaviate gRPC port (optional)')}
          <fieldset className="secrets">
            <legend>Secrets</legend>
            {SECRET_FIELDS.map((f) => {
              const s = form.secrets[f];
              const set = (patch: Partial<{ mode: SecretMode; text: string }>) => setForm({ ...form, secrets: { ...form.secrets, [f]: { ...s, ...patch } } });
              return (
                <div key={f} className="secret-row">
                  <label>
                    {SECRET_LABEL[f]}
                    <select value={s.mode} onChange={(e) => set({ mode: e.target.value as SecretMode, text: '' })} aria-label={`${SECRET_LABEL[f]} source`}>
                      <option value="none">none</option>
                      {editing?.secrets[f] && <option value="keep">keep ({secretText(editing.secrets[f])})</option>}
                      <option value="env">environment variable</option>
                      <option value="file">file</option>
                      {vault && <option value="value">type it (sealed)</option>}
                    </select>
                  </label>
                  {(s.mode === 'env' || s.mode === 'file' || s.mode === 'value') && (
                    <label>
                      {s.mode === 'env' ? 'Variable name' : s.mode === 'file' ? 'File path' : 'Secret'}
                      <input
                        type={s.mode === 'value' ? 'password' : 'text'}
                        value={s.text}
                        onChange={(e) => set({ text: e.target.value })}
                        required
                        autoComplete="off"
                        aria-label={`${SECRET_LABEL[f]} ${s.mode === 'env' ? 'variable' : s.mode === 'file' ? 'file' : 'value'}`}
                      />
                    </label>
                  )}
                </div>
              );
            })}
          </fieldset>
          <span className="toolbar">
            <button type="submit" className="primary">
              Save connection
            </button>
            <button type="button" onClick={() => void test(form.name.trim() || 'draft', draftOf(form))} disabled={testing !== null || !form.name.trim() || !form.postgres_url.trim()}>
              {testing !== null ? 'Testing…' : 'Test connection'}
            </button>
            <button
              type="button"
              onClick={() => {
                setForm(null);
                setEditing(null);
              }}
            >
              Cancel
            </button>
          </span>
        </form>
      )}
    </div>
  );
}
