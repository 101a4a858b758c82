/** The 'settings/…' channels: the saved UI settings (theme, run speed). */
import type { NamespaceHandlers, StudioContext } from './context.ts';

type SettingsContext = Pick<StudioContext, 'settings'>;

export function settingsChannels(ctx: SettingsContext): NamespaceHandlers<'settings'> {
  return {
    'settings/get': async () => ctx.settings.get(),
    'settings/set': async (a) => {
      const patch: Record<string, unknown> = {};
      if (a.theme !== undefined) patch.theme = a.theme;
      if (a.speed !== undefined) patch.speed = a.speed;
      return ctx.settings.update(patch);
    },
  };
}
