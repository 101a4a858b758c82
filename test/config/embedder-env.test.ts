/** The embedder from the environment: CHIMERA_EMBEDDER picks it, CHIMERA_ALLOW_DOWNLOADS=1 lets MiniLM be fetched once. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { localModel } from '../../src/config/embedders.ts';

describe('embedder from the environment', () => {
  it('defaults to the hashing embedder with downloads off', () => {
    expect(loadConfig({ env: {} }).embedder).toMatchObject({ kind: 'hashing', allow_downloads: false });
  });

  it('CHIMERA_EMBEDDER=transformers and CHIMERA_ALLOW_DOWNLOADS=1 set the embedder section', () => {
    expect(loadConfig({ env: { CHIMERA_EMBEDDER: 'transformers', CHIMERA_ALLOW_DOWNLOADS: '1' } }).embedder).toMatchObject({ kind: 'transformers', allow_downloads: true });
    expect(loadConfig({ env: { CHIMERA_EMBEDDER: 'transformers', CHIMERA_ALLOW_DOWNLOADS: '0' } }).embedder.allow_downloads).toBe(false);
  });

  it('refuses an unknown embedder, naming the field', () => {
    expect(() => loadConfig({ env: { CHIMERA_EMBEDDER: 'word2vec' } })).toThrow(/embedder\.kind/);
  });

  it('says where the model is looked for and what is missing', () => {
    const m = localModel(loadConfig({ env: {}, overrides: { data_dir: '/nonexistent-chimera' } }));
    expect(m.model).toBe('Xenova/all-MiniLM-L6-v2');
    expect(m.folder).toBe('/nonexistent-chimera/models/Xenova/all-MiniLM-L6-v2');
    expect(m.missing).toContain('config.json');
  });
});
