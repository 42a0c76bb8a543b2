// The vocabulary of the fuzz harness: what a case is, what can happen to it, and the families.
export const OUTCOMES = ['success', 'clean-error', 'wrong-kind', 'hang', 'memory', 'crash'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes that mean a defect: the CI run asserts none of them happen. */
export const BAD_OUTCOMES: readonly Outcome[] = ['wrong-kind', 'hang', 'memory', 'crash'];

/** What the child process runs a case's files through (see targets.ts). */
export type TargetName = 'checkpoint' | 'hubert' | 'faiss' | 'audio' | 'voice-import' | 'voice-manifest' | 'probe';

/** What the harness's own test asks the probe target to do, to show each outcome is detected. */
export const PROBES = ['accept', 'user-error', 'multi-line', 'type-error', 'recurse', 'spin', 'allocate', 'exit', 'killed'] as const;

/** A file of a case: bytes, or a symbolic link to `symlink` (relative to the case folder or absolute). */
export type CaseFile = Uint8Array | { symlink: string };

/** A file-parser case: files laid out in a fresh folder, then `target` run on `input` inside it. */
export interface FileCase {
  kind: 'file';
  target: TargetName;
  /** Relative paths → contents; folders are made as needed. */
  files: Record<string, CaseFile>;
  /** The path (relative to the case folder) handed to the target. */
  input: string;
}

/** A server case: one request to a running `resona serve`. */
export type ServerCase =
  | { kind: 'http'; raw: string }
  | { kind: 'upgrade'; raw: string }
  | { kind: 'ws'; message: string };

export interface CaseSpec {
  /** `<family>:<seed>:<index>`: regenerates the same case (bench/fuzz.ts --case). */
  id: string;
  family: string;
  /** What the case is, for the report. */
  label: string;
  body: FileCase | ServerCase;
}

export interface CaseResult {
  id: string;
  family: string;
  label: string;
  outcome: Outcome;
  /** The error's message, or why the case was stopped. */
  message: string;
  ms: number;
}

/** Limits every case runs under. */
export interface Limits {
  timeMs: number;
  memoryBytes: number;
}
export const DEFAULT_LIMITS: Limits = { timeMs: 10_000, memoryBytes: 500 * 1024 * 1024 };

/** A file name the voice importer must never create outside its library (targets.ts looks for it afterwards). */
export const ESCAPE_NAME = 'resona-fuzz-escaped.txt';
