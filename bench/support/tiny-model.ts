/**
 * A tiny BERT-style sentence model, written by the tests themselves so the real transformers.js
 * loading and inference path runs offline: a hand-encoded ONNX graph (a few KB of weights), a
 * WordPiece tokenizer and the config files, in the folder layout transformers.js expects under
 * `env.localModelPath` (`<dir>/<model-id>/onnx/model[_quantized].onnx`).
 *
 * The graph: last_hidden_state = Tanh((E[input_ids] + T[token_type_ids]) · W) ⊙ attention_mask.
 * Every whole word of the vocabulary has its own seeded random direction in E, and single
 * characters (the fallback pieces for unknown words) have small ones, so sentences that share
 * words share directions after mean pooling; [CLS]/[SEP]/[PAD] embed to zero.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRng } from '../../src/domain/seeded-rng.ts';

/** The model id the tests load (any "owner/name" works; this one says what it is). */
export const TINY_MODEL_ID = 'chimera-test/tiny-bert';
/** Width of the model's hidden states, hence of its sentence vectors. */
export const TINY_MODEL_DIMENSIONS = 32;

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const WORDS = (
  'a the and for from of to in on with is was my our your this that it not ' +
  'running runners run shoes sneakers made recycled plastic sustainable city trail marathon ' +
  'recipe lemon cake bake baking sugar flour oven chocolate coffee beans roasted morning espresso ' +
  'quarterly tax filing deadlines invoice accounting budget revenue ' +
  'same sentence twice something else entirely ' +
  'ocean beach surf waves sun travel flight hotel ' +
  'music guitar concert song ' +
  'persona voice style memory post brand audience launch campaign'
).split(' ');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');

/** The vocabulary in id order. */
export function tinyVocab(): string[] {
  return [...SPECIAL, ...WORDS, ...LETTERS, ...LETTERS.map((c) => `##${c}`)];
}

// ---- a minimal protobuf writer (enough for ONNX's ModelProto) -------------------------------

class Pb {
  private readonly parts: Uint8Array[] = [];
  private varint(n: bigint): void {
    const out: number[] = [];
    let v = BigInt.asUintN(64, n);
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      out.push(b);
    } while (v !== 0n);
    this.parts.push(Uint8Array.from(out));
  }
  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  int(field: number, n: number | bigint): this {
    this.key(field, 0);
    this.varint(BigInt(n));
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(b.length));
    this.parts.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    const n = this.parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const FLOAT = 1;
const INT64 = 7;

function tensor(name: string, dims: number[], type: number, data: Float32Array | BigInt64Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  t.int(2, type).str(8, name);
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(name: string, type: number, dims: (number | string)[]): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  const tensorType = new Pb().int(1, type).msg(2, shape);
  return new Pb().str(1, name).msg(2, new Pb().msg(1, tensorType));
}

function node(op: string, inputs: string[], outputs: string[], attrs: Pb[] = []): Pb {
  const n = new Pb();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(3, `${op.toLowerCase()}_${outputs[0]}`).str(4, op);
  for (const a of attrs) n.msg(5, a);
  return n;
}

/** The ONNX model's bytes for a vocabulary of `vocab` tokens (seeded, so always the same). */
export function tinyOnnx(vocab: readonly string[], seed = 7): Uint8Array {
  const H = TINY_MODEL_DIMENSIONS;
  const rng = new SeededRng(seed, 'tiny-model');
  const E = new Float32Array(vocab.length * H);
  vocab.forEach((tok, row) => {
    if ((SPECIAL as readonly string[]).includes(tok)) return; // zero: carries no meaning
    const scale = tok.replace('##', '').length === 1 ? 0.15 : 1; // characters only hint
    const v = Array.from({ length: H }, () => rng.normal(0, 1));
    const n = Math.hypot(...v);
    v.forEach((x, j) => (E[row * H + j] = (scale * 1.2 * x) / n));
  });
  const T = new Float32Array(2 * H); // token types add nothing
  const W = new Float32Array(H * H);
  for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) W[i * H + j] = (i === j ? 1 : 0) + rng.normal(0, 0.05);

  const graph = new Pb()
    .msg(1, node('Gather', ['E', 'input_ids'], ['tok']))
    .msg(1, node('Gather', ['T', 'token_type_ids'], ['typ']))
    .msg(1, node('Add', ['tok', 'typ'], ['emb']))
    .msg(1, node('MatMul', ['emb', 'W'], ['proj']))
    .msg(1, node('Tanh', ['proj'], ['act']))
    .msg(1, node('Cast', ['attention_mask'], ['maskf'], [new Pb().str(1, 'to').int(3, FLOAT).int(20, 2)]))
    .msg(1, node('Unsqueeze', ['maskf', 'axes'], ['mask3']))
    .msg(1, node('Mul', ['act', 'mask3'], ['last_hidden_state']))
    .str(2, 'tiny_bert')
    .msg(5, tensor('E', [vocab.length, H], FLOAT, E))
    .msg(5, tensor('T', [2, H], FLOAT, T))
    .msg(5, tensor('W', [H, H], FLOAT, W))
    .msg(5, tensor('axes', [1], INT64, BigInt64Array.from([2n])))
    .msg(11, valueInfo('input_ids', INT64, ['batch', 'sequence']))
    .msg(11, valueInfo('attention_mask', INT64, ['batch', 'sequence']))
    .msg(11, valueInfo('token_type_ids', INT64, ['batch', 'sequence']))
    .msg(12, valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', H]));
  return new Pb()
    .int(1, 7) // ir_version 7: onnxruntime 1.14 reads it
    .str(2, 'chimera-tiny-model')
    .msg(7, graph)
    .msg(8, new Pb().str(1, '').int(2, 13))
    .finish();
}

function tokenizerJson(vocab: readonly string[]): unknown {
  const ids = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const special = (t: string) => ({ id: t, ids: [ids[t]], tokens: [t] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((t) => ({
      id: ids[t],
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  };
}

/**
 * Writes the tiny model under `modelDir` (used as transformers.js' localModelPath) and returns
 * the model's own folder. `quantized` picks the file name transformers.js will look for.
 */
export function writeTinyModel(modelDir: string, opts: { modelId?: string; quantized?: boolean } = {}): string {
  const dir = join(modelDir, ...(opts.modelId ?? TINY_MODEL_ID).split('/'));
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const vocab = tinyVocab();
  writeFileSync(join(dir, 'onnx', opts.quantized ? 'model_quantized.onnx' : 'model.onnx'), tinyOnnx(vocab));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      architectures: ['BertModel'],
      hidden_size: TINY_MODEL_DIMENSIONS,
      num_hidden_layers: 0,
      num_attention_heads: 1,
      vocab_size: vocab.length,
      max_position_embeddings: 128,
      type_vocab_size: 2,
      pad_token_id: 0,
    }),
  );
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 128,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      mask_token: '[MASK]',
      clean_up_tokenization_spaces: true,
    }),
  );
  return dir;
}
