/**
 * Contract-suite entries for the Weaviate persona memory: `weaviate` over the wire emulator
 * (always runs), and `weaviate-live` over a real Weaviate at WEAVIATE_URL (unavailable unless it
 * is set; WEAVIATE_API_KEY and WEAVIATE_GRPC_PORT when needed). A namespace is a fresh class,
 * `PersonaMemory_t<random>`, deleted with DELETE /v1/schema/{class} when the test is done.
 */
import { randomBytes } from 'node:crypto';
import type { AdapterEntry } from '../adapters.ts';
import type { PersonaMemoryStore } from '../../src/ports/persona-memory.ts';
import { openWeaviateMemory } from '../../src/adapters/weaviate/weaviate-persona-memory.ts';
import { assertNoUnknownCalls, startWeaviateEmulator } from './emulator.ts';

/** A fresh class name for one test. */
export function testClassName(): string {
  return `PersonaMemory_t${randomBytes(6).toString('hex')}`;
}

/** Deletes a class over REST (what a test does behind the adapter's back). */
export async function dropClass(url: string, className: string, apiKey?: string): Promise<void> {
  const res = await fetch(`${url.replace(/\/$/, '')}/v1/schema/${className}`, {
    method: 'DELETE',
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  if (!res.ok) throw new Error(`DELETE ${url}/v1/schema/${className}: HTTP ${res.status} ${await res.text()}`);
}

export const weaviateEntry: AdapterEntry = {
  name: 'weaviate',
  ports: ['memory'],
  capabilities: { reopens: true },
  setup: async () => {
    const emu = await startWeaviateEmulator();
    return {
      namespace: async () => testClassName(),
      memory: (className): Promise<PersonaMemoryStore> => openWeaviateMemory({ url: emu.url, grpcPort: emu.grpcPort, className, timeoutMs: 5_000 }),
      drop: async (className) => {
        await dropClass(emu.url, className);
        assertNoUnknownCalls(emu);
      },
      teardown: async () => {
        try {
          assertNoUnknownCalls(emu);
        } finally {
          await emu.close();
        }
      },
    };
  },
};

const LIVE_URL = process.env.WEAVIATE_URL;
const LIVE_KEY = process.env.WEAVIATE_API_KEY || undefined;
const LIVE_GRPC_PORT = process.env.WEAVIATE_GRPC_PORT ? Number(process.env.WEAVIATE_GRPC_PORT) : undefined;

export const weaviateLiveEntry: AdapterEntry = {
  name: 'weaviate-live',
  ports: ['memory'],
  capabilities: { reopens: true },
  unavailable: async () => (LIVE_URL ? null : 'WEAVIATE_URL is not set (a live Weaviate, e.g. docker compose up weaviate)'),
  setup: async () => ({
    namespace: async () => testClassName(),
    memory: (className): Promise<PersonaMemoryStore> =>
      openWeaviateMemory({ url: LIVE_URL as string, apiKey: LIVE_KEY, grpcPort: LIVE_GRPC_PORT, className, timeoutMs: 30_000 }),
    drop: (className) => dropClass(LIVE_URL as string, className, LIVE_KEY),
  }),
};

export const WEAVIATE_ENTRIES: AdapterEntry[] = [weaviateEntry, weaviateLiveEntry];
