/** Time as the engine sees it. Simulations inject a virtual clock; nothing reads the wall clock. */
export interface Clock {
  /** Milliseconds since the Unix epoch, on this clock. */
  now_ms(): number;
  /** The same instant as an ISO-8601 string (UTC). */
  iso(): string;
}
