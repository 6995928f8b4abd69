import { randomBytes } from "node:crypto";
import { EngineRequestError, GenericContainer, Network } from "throwaway";
import { describe, expect, it } from "vitest";
import { BUSYBOX, traits, webCommand } from "./profile.js";

describe(`networks on ${traits.description}`, () => {
  it("lets containers reach each other by alias, and keeps other networks out", async () => {
    await using network = await new Network().start();
    await using other = await new Network().start();
    await using _web = await new GenericContainer(BUSYBOX)
      .withCommand(webCommand("by alias"))
      .withExposedPorts(8080)
      .withNetwork(network)
      .withNetworkAliases("web")
      .start();
    const inside = await new GenericContainer(BUSYBOX)
      .withNetwork(network)
      .withCommand(["wget", "-q", "-O", "-", "http://web:8080/"])
      .run();
    expect(inside).toMatchObject({ exitCode: 0, stdout: "by alias\n" });
    const outside = await new GenericContainer(BUSYBOX).withNetwork(other).withCommand(["wget", "-q", "-O", "-", "http://web:8080/"]).run();
    expect(outside.exitCode).not.toBe(0);
  });

  it("says how to fix a network name that is taken", async () => {
    const name = `throwaway-test-${randomBytes(4).toString("hex")}`;
    await using _network = await new Network({ name }).start();
    const error = await new Network({ name }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRequestError);
    expect((error as EngineRequestError).shortMessage).toMatch(/: choose another `name`, or leave it unset for a random one$/);
  });
});
