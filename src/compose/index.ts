export { COMPOSE_LABELS } from "./definitions.js";
export { type ComposeDownOptions, DockerComposeEnvironment, StartedDockerComposeEnvironment } from "./environment.js";
export { ComposeFileError, type ComposeLocation, ComposeServiceError, ComposeUnsupportedError } from "./errors.js";
export { type ComposeProject, DEFAULT_COMPOSE_FILES, loadComposeProject } from "./load.js";
export type { ServiceSpec } from "./service.js";
