// Where restart() resumes reading the logs (the engine's `since`); the restart itself is restart.test.ts.
import { expect, it } from "vitest";
import { logsSinceAfter } from "../../src/container/log-cursor.js";

it("the log cursor is one nanosecond past the engine's timestamp", () => {
  expect(logsSinceAfter("2026-12-04T16:36:23.123456789Z ready")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 23) / 1000}.123456790`);
  expect(logsSinceAfter("2026-12-04T16:36:23.999999999Z x")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 24) / 1000}.000000000`);
  // RFC 3339 with trailing zeros trimmed, and an offset.
  expect(logsSinceAfter("2026-12-04T17:36:23.5+01:00 x")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 23) / 1000}.500000001`);
  expect(logsSinceAfter("2026-12-04T16:36:23Z x")).toBe(`${Date.UTC(2026, 11, 4, 16, 36, 23) / 1000}.000000001`);
  expect(logsSinceAfter("no timestamp here")).toBeUndefined();
});
