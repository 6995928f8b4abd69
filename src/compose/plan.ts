/**
 * Which services an `up` starts, in an order where each comes after what it depends on: the services named (or
 * all), less those whose profiles are all inactive, plus everything they depend on.
 */
import { InvalidOptionError } from "../errors.js";
import { ComposeFileError } from "./errors.js";
import type { ComposeProject } from "./load.js";

/** The active profiles: the ones given, else `COMPOSE_PROFILES` (comma-separated) from the project environment. */
export function activeProfiles(project: ComposeProject, given: readonly string[] | undefined): Set<string> {
  if (given && given.length > 0) return new Set(given);
  return new Set(
    (project.env("COMPOSE_PROFILES") ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean),
  );
}

/**
 * The services to start, dependencies first (ties in file order). A service named in `requested` starts whatever
 * its profiles, as with `docker compose up NAME`; so do the services it needs.
 */
export function planServices(project: ComposeProject, profiles: ReadonlySet<string>, requested?: readonly string[]): string[] {
  const names = [...project.services.keys()];
  for (const name of requested ?? []) {
    if (!project.services.has(name)) {
      throw new InvalidOptionError("up(services)", `names of services in the project (${names.join(", ")})`, name);
    }
  }
  const enabled = (name: string) => {
    const spec = project.services.get(name)!;
    return spec.profiles.length === 0 || spec.profiles.some((p) => profiles.has(p));
  };
  const roots = requested && requested.length > 0 ? [...requested] : names.filter(enabled);
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const [dependency, { required }] of project.services.get(name)!.dependsOn) {
      if (required || enabled(dependency)) visit(dependency);
    }
  };
  for (const root of roots) visit(root);
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const place = (name: string, chain: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      throw new ComposeFileError(
        { file: project.files[0]!, keyPath: `services.${name}.depends_on`, line: undefined },
        `depends_on makes a cycle: ${[...chain, name].join(" -> ")}`,
      );
    }
    state.set(name, "visiting");
    for (const dependency of project.services.get(name)!.dependsOn.keys()) if (wanted.has(dependency)) place(dependency, [...chain, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of names) if (wanted.has(name)) place(name, []);
  return order;
}
