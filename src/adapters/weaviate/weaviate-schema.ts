/**
 * The seed's Weaviate class (`PersonaMemory`: persona_id, content, category, timestamp), the two
 * properties this adapter adds to it (memory_id, model_id), and the object ids: uuidv5 of our
 * memory id under one fixed namespace, so every process that writes a memory picks the same
 * Weaviate object and an upsert is a replace, never a second copy.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../domain/errors.ts';

/** The production class name (the seed's). Tests use `PersonaMemory_t<random>`. */
export const PERSONA_MEMORY_CLASS = 'PersonaMemory';

/**
 * The uuidv5 namespace of memory ids. Fixed forever: changing it would give every stored
 * memory a new object id, so a re-import would duplicate instead of replacing.
 */
export const MEMORY_ID_NAMESPACE = '5dfb8373-6434-497e-9494-2118e0c499e9';

/** The seed's properties, as the seed writes them. */
export const SEED_PROPERTIES = [
  { name: 'persona_id', dataType: ['text'] },
  { name: 'content', dataType: ['text'] },
  { name: 'category', dataType: ['text'] },
  { name: 'timestamp', dataType: ['date'] },
] as const;

/**
 * What this adapter adds: our memory id (a uuid cannot be turned back into it) and the embedding
 * model, checked before every write so two models are never mixed in one class.
 */
export const ADDED_PROPERTIES = [
  { name: 'memory_id', dataType: ['text'] },
  { name: 'model_id', dataType: ['text'] },
] as const;

/** Properties compared by equality keep the whole value as one token, so `aria` never matches `aria bo`. */
const FIELD_TOKENIZED: ReadonlySet<string> = new Set(['persona_id', 'category', 'memory_id', 'model_id']);

/** The property definition sent to Weaviate. */
export function propertyDefinition(p: { name: string; dataType: readonly string[] }): Record<string, unknown> {
  return FIELD_TOKENIZED.has(p.name) ? { name: p.name, dataType: [...p.dataType], tokenization: 'field' } : { name: p.name, dataType: [...p.dataType] };
}

/** The same property in weaviate-client v3's shape (`config.addProperty`: one data type, not a list). */
export function propertyConfig(p: { name: string; dataType: readonly string[] }): { name: string; dataType: string; tokenization?: string } {
  const { dataType, ...rest } = propertyDefinition(p) as { name: string; dataType: string[]; tokenization?: string };
  return { ...rest, dataType: dataType[0] as string };
}

/** The class as created when absent: no server-side vectoriser (vectors come from our embedder), cosine HNSW. */
export function classDefinition(className: string): Record<string, unknown> {
  return {
    class: className,
    description: 'Chimera persona memory (long-term): vectors from the studio embedder, model_id on every object',
    vectorizer: 'none',
    vectorIndexType: 'hnsw',
    vectorIndexConfig: { distance: 'cosine' },
    properties: [...SEED_PROPERTIES, ...ADDED_PROPERTIES].map(propertyDefinition),
  };
}

const CLASS_NAME = /^[A-Z][_0-9A-Za-z]{0,254}$/;

/** Refuses a class name Weaviate would refuse (it must start with a capital letter). */
export function checkClassName(name: string): string {
  if (!CLASS_NAME.test(name)) {
    throw new ConfigError(`invalid Weaviate class name "${name}": it must match ${CLASS_NAME.source} (a capital letter, then letters, digits or _)`);
  }
  return name;
}

const NAMESPACE_BYTES = Buffer.from(MEMORY_ID_NAMESPACE.replaceAll('-', ''), 'hex');

/** RFC 4122 uuidv5 (SHA-1) of a memory id under MEMORY_ID_NAMESPACE. */
export function memoryUuid(memoryId: string): string {
  const h = createHash('sha1').update(NAMESPACE_BYTES).update(memoryId, 'utf8').digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
