// What startGlobal provides for each container, from a stand-in started container; the global setup against the
// engine is global-setup.test.ts.
import { containerInfo } from "throwaway/vitest";
import { describe, expect, it } from "vitest";

describe("startGlobal", () => {
  it("adds `uri` for containers with a connection URI", () => {
    const fake = {
      getId: () => "f".repeat(64),
      getName: () => "db",
      getImage: () => "mysql:5.7",
      getHost: () => "127.0.0.1",
      getMappedPort: () => 49153,
      waitTarget: () => ({ boundPorts: () => [{ port: 3306, protocol: "tcp" as const }] }),
      getConnectionUri: () => "mysql://test:test@127.0.0.1:49153/test",
    };
    expect(containerInfo(fake as never)).toEqual({
      id: "f".repeat(64),
      name: "db",
      image: "mysql:5.7",
      host: "127.0.0.1",
      ports: { "3306/tcp": 49153 },
      port: 49153,
      uri: "mysql://test:test@127.0.0.1:49153/test",
    });
  });
});
