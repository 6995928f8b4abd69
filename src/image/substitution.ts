import { env } from "../config.js";
import { ImageName } from "./image-name.js";

/**
 * Rewrites an image reference before it is pulled or run, e.g. to a company mirror. Return a new name (string or
 * {@link ImageName}) or `undefined` to leave it.
 */
export type ImageSubstitutor = (image: ImageName) => ImageName | string | undefined;

const substitutors: ImageSubstitutor[] = [];

/** Registers a substitutor for every image this process pulls or runs. Returns a function that removes it. */
export function addImageSubstitutor(substitutor: ImageSubstitutor): () => void {
  substitutors.push(substitutor);
  return () => {
    const index = substitutors.indexOf(substitutor);
    if (index >= 0) substitutors.splice(index, 1);
  };
}

/**
 * The name an image is really pulled and run under: `THROWAWAY_HUB_IMAGE_NAME_PREFIX` first (Docker Hub images
 * only), then each registered substitutor in order.
 */
export function substituteImage(image: ImageName): ImageName {
  let current = image;
  const prefix = env.hubImagePrefix();
  if (prefix && current.isDockerHub) current = current.withRegistryPrefix(prefix);
  for (const substitutor of substitutors) {
    const next = substitutor(current);
    if (next !== undefined) current = typeof next === "string" ? ImageName.parse(next, "image substitutor result") : next;
  }
  return current;
}
