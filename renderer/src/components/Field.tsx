// A labelled numeric setting on one row: label, slider and number box, committed on slider moves and on
// Enter/blur in the box. The box shows what is applied: a value that is empty, not a number or out of range
// is refused here with a message beside the field (nothing is sent), and on leaving the box it goes back to
// the applied value (never a silent 0). A value the host refuses goes back the same way. Errors are announced.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

export interface FieldProps {
  name: string;
  /** The field's name in messages and for screen readers. */
  label: string;
  /** What the row shows, when shorter than `label` (the rest is for screen readers). */
  visibleLabel?: ReactNode;
  value: number;
  min: number;
  max: number;
  step: number;
  unit?: string;
  error?: string | undefined;
  disabled?: boolean;
  hint?: string;
  onCommit: (v: number) => void;
  /** Shows or clears this field's message (a refused value); the store keeps it with the host's errors. */
  onError: (message: string | null) => void;
  /** Called with every valid edit before commit (the latency preview follows the typing). */
  onDraft?: (v: number) => void;
}

/** Short units for the row: "semitones" does not fit beside a slider. */
const SHORT_UNITS: Record<string, string> = { semitones: 'st' };

/** The value as the box shows it: no float noise from slider steps (0.30000000000000004). */
export function show(v: number): string {
  return String(Number(v.toFixed(6)));
}

/** Checks a typed value against the field's range; the message says what is allowed. */
export function checkTyped(text: string, label: string, min: number, max: number, unit = ''): { ok: true; value: number } | { ok: false; message: string } {
  const u = unit ? ` ${unit}` : '';
  const allowed = `allowed ${min} to ${max}${u}`;
  if (text.trim() === '') return { ok: false, message: `${label} needs a value: ${allowed}` };
  const v = Number(text);
  if (!Number.isFinite(v)) return { ok: false, message: `${label} must be a number: ${allowed}` };
  if (v < min || v > max) return { ok: false, message: `${label} ${v}${u} is out of range: ${allowed}` };
  return { ok: true, value: v };
}

export function Field({ name, label, visibleLabel, value, min, max, step, unit, error, disabled, hint, onCommit, onError, onDraft }: FieldProps) {
  const id = useId();
  const [draft, setDraft] = useState(show(value));
  // The text last sent to the host: if the host refuses it, leaving the box brings back the applied value.
  const sent = useRef<string | null>(null);
  useEffect(() => {
    setDraft(show(value));
    sent.current = null;
  }, [value]);
  const commit = (leaving: boolean) => {
    const c = checkTyped(draft, label, min, max, unit);
    if (!c.ok) {
      if (leaving) {
        setDraft(show(value));
        onError(`${c.message} (kept ${show(value)})`);
      } else onError(c.message);
      return;
    }
    if (leaving && error && sent.current === draft && c.value !== value) {
      // The host refused this value: the message stays, the box shows what is applied.
      setDraft(show(value));
      return;
    }
    // Re-sending the current value after an error clears it (the host confirms the value stands).
    if (c.value !== value || error) {
      sent.current = draft;
      onCommit(c.value);
    }
  };
  const shortUnit = unit ? (SHORT_UNITS[unit] ?? unit) : '';
  const describedBy = error ? `${id}-e` : hint ? `${id}-h` : undefined;
  return (
    <div className={`field${error ? ' invalid' : ''}`} data-field={name}>
      <label htmlFor={`${id}-n`} title={hint}>
        {visibleLabel ?? label}
        {shortUnit ? <span className="unit"> ({shortUnit})</span> : null}
      </label>
      <input
        type="range"
        aria-label={`${label} slider`}
        min={min}
        max={max}
        step={step}
        value={Math.min(max, Math.max(min, value))}
        disabled={disabled}
        onChange={(e) => {
          onError(null);
          onCommit(Number(e.target.value));
        }}
      />
      <input
        id={`${id}-n`}
        name={name}
        type="number"
        inputMode="decimal"
        min={min}
        max={max}
        step={step}
        value={draft}
        disabled={disabled}
        aria-invalid={Boolean(error)}
        aria-describedby={describedBy}
        onChange={(e) => {
          setDraft(e.target.value);
          const c = checkTyped(e.target.value, label, min, max, unit);
          if (c.ok) onDraft?.(c.value);
        }}
        onBlur={() => commit(true)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit(false);
          if (e.key === 'Escape') {
            setDraft(show(value));
            onError(null);
          }
        }}
      />
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
