/** Labels every resource throwaway creates carries; `throwaway ps` and the reaper find resources by them. */
export const LABELS = {
  /** The run (test process and its workers) that created the resource. */
  session: "dev.throwaway.session-id",
  version: "dev.throwaway.version",
  /** The pid of the process that created the resource, for the dead-session sweep. */
  pid: "dev.throwaway.pid",
  /** The host that created it (a pid means nothing on another host). */
  hostname: "dev.throwaway.hostname",
  /**
   * Where the pid label means something: the boot and pid namespace of the creator (Linux). Two CI jobs in containers
   * with `--network host` share the host's name but not their pids; without this one could judge the other dead.
   */
  pidScope: "dev.throwaway.pid-scope",
  /** Set on resources that must outlive sessions (reused containers, `throwaway up --keep`). */
  keep: "dev.throwaway.keep",
  /** The hash of a reusable container's whole configuration. */
  reuseHash: "dev.throwaway.reuse-hash",
  /** The content digest a built image is cached by. */
  buildDigest: "dev.throwaway.build-digest",
  /** The content address of a warm-start cache image (see `withWarmStart`). */
  warmKey: "dev.throwaway.warm-key",
} as const;
