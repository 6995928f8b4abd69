export type { CommitOptions } from "./container/commit.js";
export type { CopyItem, CopyOwner } from "./container/copy.js";
export {
  DEFAULT_STARTUP_TIMEOUT_MS,
  GenericContainer,
  type OneShotResult,
  type StartOptions,
  type WarmStartProfile,
} from "./container/generic-container.js";
export type { ModuleDefaults } from "./container/module-defaults.js";
export type { BindMount, HealthCheck, NetworkRef, PortSpec, PullPolicy, Resources, Ulimit } from "./container/options.js";
export {
  type ConnectionInfo,
  type ContainerHandleState,
  type LogsOptions,
  StartedContainer,
  type StopOptions,
  StoppedContainer,
} from "./container/started-container.js";
export type { GracePeriod } from "./container/stop-timeout.js";
// Deprecated: undocumented message helpers the root used to export; each warns once.
export { describeContainer, describeValue, shortId } from "./deprecated.js";
export { getEngine, setEngine } from "./engine/current.js";
export type { LogLine } from "./engine/demux.js";
export { Engine, type ExecOptions, type ExecResult, type ImageRemoval } from "./engine/engine.js";
export type { PushResult } from "./engine/push.js";
export type { EngineTraits } from "./engine/traits.js";
export type { ContainerInspect, ProgressEvent, ProgressListener, RegistryAuth } from "./engine/types.js";
// The error classes and the types to build one.
export {
  ContainerExitedError,
  ContainerNotReadyError,
  ContainerStartError,
  ContainerStateError,
  EngineApiVersionError,
  EngineConnectionError,
  EngineHostKeyError,
  EngineHttpError,
  EngineRequestError,
  EngineTimeoutError,
  EngineTlsError,
  EngineUnavailableError,
  EngineUnsupportedError,
  type ErrorContext,
  FixtureFileError,
  FixtureStartError,
  ImageBuildError,
  ImagePullError,
  ImagePushError,
  InvalidOptionError,
  LifecycleHookError,
  ReaperError,
  RegistryAuthError,
  ThrowawayError,
  type ThrowawayErrorOptions,
  WaitTimeoutError,
} from "./errors.js";
export { defineFixtures, Fixtures, isFixtures, type StartedFixtures } from "./fixtures/define.js";
export type {
  FixtureContext,
  FixtureDefinition,
  FixtureEvent,
  FixtureFactory,
  Startable,
  StartFixturesOptions,
  Stoppable,
} from "./fixtures/types.js";
export {
  type BuildImageOptions,
  type BuiltGenericContainer,
  BuiltImage,
  DockerfileBuilder,
  type DockerfileBuildOptions,
  type ImagePushOptions,
} from "./image/build.js";
export { ImageName } from "./image/image-name.js";
export { addImageSubstitutor, type ImageSubstitutor } from "./image/substitution.js";
export { LABELS } from "./labels.js";
export { Network, type NetworkOptions, StartedNetwork } from "./network/network.js";
export { getSessionId } from "./reaper/session.js";
export { AllWaitStrategy, AnyWaitStrategy } from "./wait/composite.js";
export { HealthCheckWaitStrategy } from "./wait/health-check.js";
export { HttpWaitStrategy } from "./wait/http.js";
export { Wait } from "./wait/index.js";
export { ListeningPortsWaitStrategy } from "./wait/listening-ports.js";
export { LogMessageWaitStrategy } from "./wait/log-message.js";
export { OneShotStartupWaitStrategy } from "./wait/one-shot.js";
export { PermanentFailure } from "./wait/poll.js";
export { type StartupCheck, type StartupCheckOptions, StartupCheckWaitStrategy } from "./wait/startup-check.js";
export type { ExitInfo, WaitContext, WaitStrategy, WaitTarget } from "./wait/strategy.js";
export { BaseWaitStrategy } from "./wait/strategy.js";
export { SuccessfulCommandWaitStrategy } from "./wait/successful-command.js";
