/** Turns text into unit-length vectors. */
export interface Embedder {
  /** Identifies the model; stored beside every vector so models are never mixed. */
  readonly model_id: string;
  /** Length of every vector this embedder returns. */
  readonly dimensions: number;
  /**
   * One L2-normalised vector per text, in order. A vector may be a view into a larger buffer
   * shared with other vectors (`byteOffset`/`byteLength` say where): a store copies what it keeps.
   */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Releases workers and sessions. */
  close(): Promise<void>;
}
