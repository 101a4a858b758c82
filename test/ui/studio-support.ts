/** A studio service on a fresh data folder (removed by the returned cleanup). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { loadConfig } from '../../src/config/config.ts';
import { StudioService } from '../../src/app/studio-service.ts';
import { CHANNELS, CHANNEL_NAMES, type ChannelName } from '../../src/shared/contract.ts';

export async function openStudio(data_dir = mkdtempSync(join(tmpdir(), 'chimera-studio-'))) {
  const service = await StudioService.open({ config: loadConfig({ env: {}, overrides: { data_dir } }) });
  return {
    service,
    data_dir,
    async cleanup() {
      await service.close();
      rmSync(data_dir, { recursive: true, force: true });
    },
  };
}

/** For every channel, arguments that its schema must refuse, each with the field it must name. */
export function badArguments(): { channel: ChannelName; args: unknown; field: string }[] {
  const out: { channel: ChannelName; args: unknown; field: string }[] = [];
  for (const channel of CHANNEL_NAMES) {
    const schema = CHANNELS[channel].args as unknown as z.ZodObject;
    out.push({ channel, args: 42, field: '(argument)' });
    out.push({ channel, args: null, field: '(argument)' });
    out.push({ channel, args: { not_a_field: 1 }, field: 'not_a_field' });
    for (const key of Object.keys(schema.shape)) {
      // an object is the wrong type for every field of the contract (strings, numbers, enums, lists, booleans)
      out.push({ channel, args: { [key]: { wrong: 'type' } }, field: key });
    }
  }
  return out;
}
