/** The 'backend/…' channels: what the active backend profile is and can do, the saved file profiles, switching profile. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findConnection, type ChimeraConfig } from '../../config/config.ts';
import type { ConnectionsFile } from '../../config/connections.ts';
import { readOnlyProfileError } from './connections-channels.ts';
import { backendByKind, backendKinds, backends, isBuilt, profileConfig } from '../../config/backends/index.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { BackendProfile, BackendStatus } from '../../shared/types.ts';
import type { BackendKind } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';
import { wireKind } from './session.ts';

type BackendContext = Pick<StudioContext, 'config' | 'settings' | 'current' | 'exclusive' | 'replaceSession'> & { readonly connections: ConnectionsFile };

export function backendChannels(ctx: BackendContext): NamespaceHandlers<'backend'> {
  return {
    'backend/status': async () => backendStatus(ctx),
    'backend/switch': async (a) =>
      ctx.exclusive(async () => {
        const profile = profileFor(ctx.config, a.kind, a.name ?? null, ctx.connections);
        await ctx.replaceSession(profile, null);
        ctx.settings.update({ backend: profile });
        return backendStatus(ctx);
      }),
  };
}

async function backendStatus(ctx: Pick<StudioContext, 'config' | 'settings' | 'current'>): Promise<BackendStatus> {
  const s = ctx.current();
  // the named profiles of every backend that keeps a file, found by their files
  const profiles: { kind: BackendKind; name: string; path: string; bytes: number }[] = [];
  const dir = profilesDir(ctx.config);
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      for (const kind of backendKinds({ built: true })) {
        const path = profileConfig(ctx.config, kind, join(dir, name)).file;
        if (path && existsSync(path)) profiles.push({ kind: wireKind(kind), name, path, bytes: statSync(path).size });
      }
    }
  }
  const caps = s.sim.ports.backend.capabilities;
  return {
    active: s.profile,
    description:
      s.replayed_from === null
        ? s.sim.ports.description
        : s.profile.path === null
          ? `In-memory replay (rebuilt to step ${s.replayed_from})`
          : `${s.sim.ports.description} (a branch rebuilt at step ${s.replayed_from})`,
    capabilities: {
      transactions: caps.transactions,
      durable: caps.durable,
      memory_exact: s.sim.ports.memory.capabilities.exact,
      memory_durable: s.sim.ports.memory.capabilities.durable,
    },
    notices: [...s.sim.ports.notices, ...(ctx.settings.notice ? [ctx.settings.notice] : [])],
    data_dir: resolve(ctx.config.data_dir),
    sqlite_profiles: profiles,
    kinds: backendKinds({ built: true }).map(wireKind),
    backends: backends()
      .filter(isBuilt)
      .map((b) => ({ kind: wireKind(b.kind), label: b.label, help: b.help, file_name: b.files?.fileName ?? null, capabilities: { ...b.capabilities } })),
  };
}

/** The profile a user picked: a backend that keeps a file keeps each named profile in a folder of its own. */
function profileFor(config: ChimeraConfig, kind: BackendProfile['kind'], name: string | null, connections: ConnectionsFile): BackendProfile {
  const entry = backendByKind(kind, 'kind');
  if (!isBuilt(entry)) throw new ValidationError(`kind: the ${kind} backend is not available in this build`);
  if (kind === 'production' && name) {
    // a connection profile: refused here, before the open session is closed, when it is read-only
    if (findConnection(config, name, connections).profile.read_only) throw readOnlyProfileError(name);
    return { kind, name, path: null };
  }
  if (!entry.files) return { kind, name: null, path: null };
  if (!name) throw new ValidationError(`name: a ${kind} profile needs a name`);
  return { kind, name, path: profileConfig(config, kind, join(profilesDir(config), name)).file };
}

function profilesDir(config: ChimeraConfig): string {
  return join(resolve(config.data_dir), 'profiles');
}
