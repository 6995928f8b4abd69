// Pure normalisation logic: withHealthCheck's key names (ours and testcontainers'), and module defaults merged
// under the user's options without touching either.

import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../errors.js";
import { mergeModuleDefaults } from "./module-defaults.js";
import { emptyRawOptions, type HealthCheck, normalizeContainerOptions } from "./options.js";

function healthCheck(check: unknown) {
  const raw = emptyRawOptions("busybox");
  raw.healthCheck = check;
  return normalizeContainerOptions(raw).healthCheck;
}

describe("withHealthCheck durations", () => {
  it("takes testcontainers' interval, timeout and startPeriod (ms) as ours", () => {
    const theirs: HealthCheck = { test: "true", interval: 1000, timeout: 2000, startPeriod: 3000, retries: 2 };
    const ours: HealthCheck = { test: "true", intervalMs: 1000, timeoutMs: 2000, startPeriodMs: 3000, retries: 2 };
    expect(healthCheck(theirs)).toEqual(healthCheck(ours));
    expect(healthCheck(ours)).toEqual({ Test: ["CMD-SHELL", "true"], Interval: 1e9, Timeout: 2e9, StartPeriod: 3e9, Retries: 2 });
  });

  it("refuses both names at once, and unknown keys, naming them", () => {
    expect(() => healthCheck({ test: "true", interval: 1, intervalMs: 1 })).toThrow(InvalidOptionError);
    expect(() => healthCheck({ test: "true", interval: 1, intervalMs: 1 })).toThrow("withHealthCheck({ interval })");
    expect(() => healthCheck({ test: "true", startupPeriod: 5 })).toThrow("`startupPeriod` is not a health check setting");
  });
});

describe("mergeModuleDefaults", () => {
  it("puts defaults under the user's values in a copy and changes neither", () => {
    const raw = emptyRawOptions("busybox");
    raw.env = { A: "user" };
    raw.exposedPorts = ["8080/tcp"];
    const defaults = { env: { A: "module", B: "module" }, exposedPorts: [8080, 9090], startupTimeoutMs: 5 };
    const rawBefore = structuredClone(raw);
    const defaultsBefore = structuredClone(defaults);
    const merged = mergeModuleDefaults(raw, defaults);
    expect(merged.env).toEqual({ A: "user", B: "module" });
    expect(merged.exposedPorts).toEqual([9090, "8080/tcp"]);
    expect(merged.startupTimeoutMs).toBe(5);
    merged.env.C = "later";
    merged.exposedPorts.push(1);
    expect(raw).toEqual(rawBefore);
    expect(defaults).toEqual(defaultsBefore);
  });
});
