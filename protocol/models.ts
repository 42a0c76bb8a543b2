// What front ends know about the shared networks (content encoders, pitch networks): whether each is on this
// machine, whether the catalogue can fetch it, and what a download under way has done. Pure data.

export type NetworkState = 'present' | 'unverified' | 'changed' | 'wrong-size' | 'missing';

export interface NetworkInfo {
  /** Catalogue id ('rmvpe', 'contentvec-768-l12') or, for a network nobody publishes, the f0 method's id. */
  id: string;
  kind: 'content-encoder' | 'f0';
  description: string;
  /** The file name in the models folder, and the folder's full path (where a user places a file by hand). */
  file: string;
  path: string;
  state: NetworkState;
  /** The catalogue has a URL for it: the UI offers a download. False: the user must supply the file. */
  downloadable: boolean;
  /** Published size in bytes and SHA-256 (null: none is published, so a download needs explicit consent). */
  size: number | null;
  sha256: string | null;
  /** The SHA-256 recorded when an unverified download was accepted (shown so the user can compare it). */
  pinned: string | null;
  /** Bytes of an interrupted download that the next one resumes. */
  partial: number;
}

/** A download's progress, pushed to every client while it runs and once when it ends. */
export interface DownloadProgress {
  id: string;
  phase: 'downloading' | 'done' | 'failed';
  done: number;
  total: number | null;
  /** On 'done': the file's SHA-256, and whether it matched a published one (false: pinned instead). */
  sha256?: string;
  verified?: boolean;
  resumedFrom?: number;
  /** On 'failed': what went wrong and what to do, one line. */
  message?: string;
}

export interface DownloadResultInfo {
  id: string;
  path: string;
  size: number;
  sha256: string;
  verified: boolean;
  resumedFrom: number;
}
