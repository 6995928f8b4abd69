// A registry on 127.0.0.1 that serves a valid manifest and image config, then stalls the layer: it sends the headers
// and the first bytes and never another. What a registry (or a proxy in front of it) that hangs mid-pull looks like.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { arch } from "node:os";

export interface StallingRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Layer downloads that started, ever. */
  stallsStarted(): number;
  close(): Promise<void>;
}

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export async function startStallingRegistry(): Promise<StallingRegistry> {
  const platform = arch() === "arm64" ? "arm64" : "amd64";
  const layerSize = 8 * 1024 * 1024;
  const layerDigest = sha256(randomBytes(32));
  const config = Buffer.from(
    JSON.stringify({ architecture: platform, os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha256(randomBytes(32))] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: { mediaType: "application/vnd.docker.container.image.v1+json", size: config.length, digest: sha256(config) },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layerSize, digest: layerDigest }],
    }),
  );
  let started = 0;
  const stalled = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const url = req.url ?? "";
    const send = (status: number, type: string, body: Buffer, digest?: string) => {
      res.writeHead(status, {
        "Content-Type": type,
        "Content-Length": body.length,
        "Docker-Distribution-API-Version": "registry/2.0",
        ...(digest ? { "Docker-Content-Digest": digest } : {}),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (url === "/v2/" || url === "/v2") return send(200, "application/json", Buffer.from("{}"));
    if (/\/manifests\//.test(url)) return send(200, "application/vnd.docker.distribution.manifest.v2+json", manifest, sha256(manifest));
    if (url.endsWith(`/blobs/${sha256(config)}`)) return send(200, "application/octet-stream", config, sha256(config));
    if (url.endsWith(`/blobs/${layerDigest}`)) {
      started++;
      stalled.add(res);
      res.once("close", () => stalled.delete(res));
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": layerSize, "Docker-Content-Digest": layerDigest });
      res.write(randomBytes(64 * 1024));
      return; // and nothing more, ever
    }
    send(404, "application/json", Buffer.from('{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}'));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    stallsStarted: () => started,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
