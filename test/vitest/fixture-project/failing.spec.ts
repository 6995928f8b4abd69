import { expect } from "vitest";
import { it } from "./fixtures.js";

// Fails on purpose: the outer test checks that the output shows the last log lines of the containers it used.
it("fails while using a test-scoped and a file-scoped container", async ({ perTest, perFile, client, chatty }) => {
  expect(await client.fetchScope()).toBe("test");
  expect(chatty.getImage()).toBe("busybox:latest");
  expect(perFile.getId()).not.toBe(perTest.getId());
  expect("the answer").toBe("a different answer");
});
