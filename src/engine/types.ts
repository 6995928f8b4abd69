/**
 * The parts of Engine API answers throwaway reads, typed here so no module outside `src/engine` needs dockerode's
 * types. Field names are the Engine API's own.
 */

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface ContainerState {
  Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: "starting" | "healthy" | "unhealthy" | "none"; FailingStreak: number; Log?: { ExitCode: number; Output: string }[] };
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  Config: {
    Image: string;
    Env: string[] | null;
    Labels: Record<string, string> | null;
    Tty: boolean;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    WorkingDir: string;
    User: string;
    Hostname?: string;
    ExposedPorts?: Record<string, object> | null;
    /** Durations in nanoseconds; 0 or absent means the engine's default. */
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | null;
  };
  HostConfig: {
    NetworkMode: string;
    Binds?: string[] | null;
    Tmpfs?: Record<string, string> | null;
    Memory?: number;
    NanoCpus?: number;
    ShmSize?: number;
    Privileged?: boolean;
    CapAdd?: string[] | null;
    CapDrop?: string[] | null;
    ExtraHosts?: string[] | null;
  };
  NetworkSettings: {
    Ports: Record<string, PortBinding[] | null> | null;
    Networks: Record<string, { IPAddress: string; NetworkID: string; Aliases: string[] | null; GlobalIPv6Address?: string }>;
  };
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  Architecture: string;
  Os: string;
  Size?: number;
  /** When a tag was last set on the image (RFC 3339; the zero time when never). */
  Metadata?: { LastTagTime?: string };
  Config: {
    Labels: Record<string, string> | null;
    Healthcheck?: { Test?: string[] } | null;
    ExposedPorts?: Record<string, object> | null;
  } | null;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  Created: number;
}

export interface NetworkSummary {
  Id: string;
  Name: string;
  Labels: Record<string, string> | null;
  Created: string;
  Containers?: Record<string, { Name: string; IPv4Address: string }>;
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  Labels: Record<string, string> | null;
  Created: number;
  Size: number;
}

export interface VolumeSummary {
  Name: string;
  Labels: Record<string, string> | null;
}

/** One event of a pull, push or build as the engine streams it. */
export interface ProgressEvent {
  /** `pull`, `push` or `build`. */
  kind: "pull" | "push" | "build";
  /** The image being moved or built. */
  image: string;
  /** The engine's status line, e.g. `Downloading`, or a build output line. */
  status: string;
  /** Layer id for pull/push events. */
  id?: string;
  /** Bytes done and total, when the engine reports them. */
  current?: number;
  total?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** Registry credentials as the Engine API takes them. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** An identity token (OAuth refresh token) instead of a password. */
  identitytoken?: string;
  serveraddress?: string;
}
