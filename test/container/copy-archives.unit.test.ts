// Copy owners and archives are checked at start(), before anything reaches the engine; what they do in a container
// is copy-archives.test.ts.
import { GenericContainer, InvalidOptionError } from "throwaway";
import { describe, expect, it } from "vitest";

function idle() {
  return new GenericContainer("busybox:latest").withCommand(["sleep", "600"]);
}

describe("copy ownership and archives", () => {
  it("bad owners and archives are InvalidOptionErrors naming the option", async () => {
    for (const [builder, option] of [
      [idle().withCopyContentToContainer([{ content: "x", target: "/x", uid: -1 }]), "copy uid (/x)"],
      [idle().withCopyArchivesToContainer([{ tar: "not a tar" as never, target: "/tmp" }]), "withCopyArchivesToContainer({ tar })"],
      [idle().withCopyArchivesToContainer([{ tar: Buffer.alloc(0), target: "tmp" }]), "withCopyArchivesToContainer({ target })"],
    ] as const) {
      const error = await builder.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });
});
