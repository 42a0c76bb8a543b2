// A labelled numeric setting: slider and number box side by side, committed on slider moves and on
// Enter/blur in the box. Errors from the host appear under the field and are announced.
import { useEffect, useId, useState } from 'react';

export interface FieldProps {
  name: string;
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  unit?: string;
  error?: string | undefined;
  disabled?: boolean;
  hint?: string;
  onCommit: (v: number) => void;
  /** Called with every edit before commit (the latency preview follows the typing). */
  onDraft?: (v: number) => void;
}

export function Field({ name, label, value, min, max, step, unit, error, disabled, hint, onCommit, onDraft }: FieldProps) {
  const id = useId();
  const [draft, setDraft] = useState(String(value));
  useEffect(() => setDraft(String(value)), [value]);
  const commit = () => {
    const v = Number(draft);
    if (draft.trim() === '' || !Number.isFinite(v)) {
      onCommit(Number.NaN);
      return;
    }
    // Re-sending the current value after an error clears it (the host confirms the value stands).
    if (v !== value || error) onCommit(v);
  };
  return (
    <div className={`field${error ? ' invalid' : ''}`} data-field={name}>
      <label htmlFor={`${id}-n`}>
        {label}
        {unit ? <span className="unit"> ({unit})</span> : null}
      </label>
      <div className="field-row">
        <input
          type="range"
          aria-label={`${label} slider`}
          min={min}
          max={max}
          step={step}
          value={Math.min(max, Math.max(min, value))}
          disabled={disabled}
          onChange={(e) => onCommit(Number(e.target.value))}
        />
        <input
          id={`${id}-n`}
          name={name}
          type="number"
          inputMode="decimal"
          step={step}
          value={draft}
          disabled={disabled}
          aria-invalid={Boolean(error)}
          aria-describedby={error ? `${id}-e` : hint ? `${id}-h` : undefined}
          onChange={(e) => {
            setDraft(e.target.value);
            const v = Number(e.target.value);
            if (Number.isFinite(v)) onDraft?.(v);
          }}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
            if (e.key === 'Escape') setDraft(String(value));
          }}
        />
      </div>
      {error ? (
        <p className="error" id={`${id}-e`} role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="hint" id={`${id}-h`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}
