import { defineFixtures, GenericContainer, Network } from "throwaway";
import { describe, expect, it } from "vitest";
import { BUSYBOX, traits, webCommand } from "./profile.js";

describe(`defineFixtures on ${traits.description}`, () => {
  it("starts a set in dependency order and removes all of it", async () => {
    const fixtures = defineFixtures()
      .add("network", () => new Network())
      .add("web", ["network"], ({ network }) =>
        new GenericContainer(BUSYBOX)
          .withNetwork(network)
          .withNetworkAliases("web")
          .withExposedPorts(8080)
          .withCommand(webCommand("fixture")),
      );
    await using env = await fixtures.start();
    const { web } = env;
    expect(await (await fetch(`http://${web.getHost()}:${web.getMappedPort(8080)}/`)).text()).toBe("fixture\n");
  });
});
