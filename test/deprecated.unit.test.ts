import { describeContainer, describeValue, shortId } from "throwaway";
import { afterEach, expect, it, vi } from "vitest";

afterEach(() => {
  vi.restoreAllMocks();
});

it("the message helpers the root used to export still answer as before, and each warns once that it is deprecated", () => {
  const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
  expect(describeValue("1s")).toBe('`"1s"` (string)');
  expect(describeValue("2s")).toBe('`"2s"` (string)');
  expect(shortId("0123456789abcdef0123")).toBe("0123456789ab");
  expect(describeContainer({ containerId: "0123456789abcdef", containerName: "db", image: "mysql:5.7" })).toBe(
    "container 0123456789ab (db, mysql:5.7)",
  );
  expect(warn.mock.calls.map(([message, options]) => [String(message).split("(")[0], (options as { code: string }).code])).toEqual([
    ["describeValue", "THROWAWAY_INTERNAL_HELPER"],
    ["shortId", "THROWAWAY_INTERNAL_HELPER"],
    ["describeContainer", "THROWAWAY_INTERNAL_HELPER"],
  ]);
});
