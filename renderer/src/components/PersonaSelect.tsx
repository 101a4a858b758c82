/** A labelled persona picker; `allLabel` adds an "any persona" choice with the value ''. */
export function PersonaSelect(props: {
  readonly value: string;
  readonly onChange: (id: string) => void;
  readonly personas: readonly { readonly id: string; readonly memories?: number }[] | undefined;
  readonly allLabel?: string;
  readonly showCounts?: boolean;
}) {
  return (
    <label>
      Persona
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.allLabel !== undefined && <option value="">{props.allLabel}</option>}
        {(props.personas ?? []).map((p) => (
          <option key={p.id} value={p.id}>
            {props.showCounts && p.memories !== undefined ? `${p.id} (${p.memories})` : p.id}
          </option>
        ))}
      </select>
    </label>
  );
}
