import { ImageName } from "../../image/image-name.js";

/**
 * The platform to run `image` on when the user chose none: `linux/amd64` for the official `mysql` 5.x images (never
 * published for arm64) on an arm64 engine, where they would otherwise fail with "no matching manifest"; else
 * `undefined` (the engine's own). `engineArchitecture` is what the engine's `/info` reports (`aarch64`, `x86_64`).
 */
export function mysqlPlatformFor(image: string, engineArchitecture: string | undefined): string | undefined {
  if (!needsAmd64OnArm(image)) return undefined;
  return engineArchitecture === "aarch64" || engineArchitecture === "arm64" ? "linux/amd64" : undefined;
}

/** True for `mysql:5`, `mysql:5.7`, `mysql:5.7.44`, `registry/library/mysql:5.6`: worth asking the engine its architecture. */
export function needsAmd64OnArm(image: string): boolean {
  let name: ImageName;
  try {
    name = ImageName.parse(image);
  } catch {
    return false; // start() reports the bad reference itself
  }
  const repository = name.repository.split("/").pop();
  return repository === "mysql" && /^5(?:\.|$|-)/.test(name.tag ?? "");
}
