/**
 * The seam between images and containers. `src/image` builds images; the containers that run them come from a
 * factory the container module hands over (`GenericContainer.fromDockerfile` passes one), so image code imports no
 * container code and the two modules form no cycle.
 */

/**
 * Names the container type built images hand out. The container module fills it in by declaration merging
 * (`container: GenericContainer`), so public signatures stay exact while this folder imports nothing from it.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging from src/container.
export interface BuildContainerTypes {}

/** The container a built image hands out: `GenericContainer` once the container module is loaded. */
export type BuildContainer = BuildContainerTypes extends { container: infer C extends object } ? C : object;

/** Makes a container for image `name` that is created from image id `imageId` (a tag may move; an id does not). */
export type ContainerFactory = (name: string, imageId: string) => BuildContainer;

let registered: ContainerFactory | undefined;

/**
 * The factory for builders constructed directly (`new DockerfileBuilder(...)`) rather than through
 * `fromDockerfile`: the container module registers it when it loads, which the package entry always does.
 */
export function registerContainerFactory(factory: ContainerFactory): void {
  registered = factory;
}

export function registeredContainerFactory(): ContainerFactory | undefined {
  return registered;
}
