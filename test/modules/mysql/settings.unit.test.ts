// Pure logic of MySqlContainer's options: validation messages, the image's environment, init scripts, platform.
// No container: these are decided before anything is created on the engine.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidOptionError } from "throwaway";
import { MySqlContainer } from "throwaway/mysql";
import { describe, expect, it } from "vitest";
import { resolveInitScripts } from "../../../src/modules/mysql/init-scripts.js";
import { mysqlPlatformFor } from "../../../src/modules/mysql/platform.js";
import {
  emptyRawMySqlSettings,
  mysqlEnvironment,
  normalizeMySqlSettings,
  type RawMySqlSettings,
} from "../../../src/modules/mysql/settings.js";

const settings = (raw: Partial<RawMySqlSettings>, env: Record<string, unknown> = {}) =>
  normalizeMySqlSettings({ ...emptyRawMySqlSettings(), ...raw }, env);

function invalid(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error("expected an InvalidOptionError");
}

describe("MySQL settings", () => {
  it("defaults to database, user and passwords `test`, as testcontainers does", () => {
    const s = settings({});
    expect(s).toEqual({
      database: "test",
      username: "test",
      userPassword: "test",
      rootPassword: "test",
      isRoot: false,
      configs: [],
      serverArgs: [],
    });
    expect(mysqlEnvironment(s)).toEqual({
      MYSQL_DATABASE: "test",
      MYSQL_USER: "test",
      MYSQL_PASSWORD: "test",
      MYSQL_ROOT_PASSWORD: "test",
    });
  });

  it("an empty root password becomes MYSQL_ALLOW_EMPTY_PASSWORD (the seed's docker run)", () => {
    expect(mysqlEnvironment(settings({ rootPassword: "" }))).toEqual({
      MYSQL_DATABASE: "test",
      MYSQL_USER: "test",
      MYSQL_PASSWORD: "test",
      MYSQL_ALLOW_EMPTY_PASSWORD: "yes",
    });
  });

  it("root as the user sets no MYSQL_USER (the image refuses MYSQL_USER=root) and uses root's password", () => {
    const s = settings({ username: "root", rootPassword: "" });
    expect(s).toMatchObject({ username: "root", isRoot: true, userPassword: "", rootPassword: "" });
    expect(mysqlEnvironment(s)).toEqual({ MYSQL_DATABASE: "test", MYSQL_ALLOW_EMPTY_PASSWORD: "yes" });
    // A password given for "the user" is root's when root is the user.
    expect(settings({ username: "root", userPassword: "pw" })).toMatchObject({ userPassword: "pw", rootPassword: "pw" });
    expect(mysqlEnvironment(settings({ username: "root", userPassword: "pw" }))).toEqual({
      MYSQL_DATABASE: "test",
      MYSQL_ROOT_PASSWORD: "pw",
    });
  });

  it("refuses an empty password for a user other than root", () => {
    expect(invalid(() => settings({ userPassword: "" })).shortMessage).toBe(
      'Expected `withUserPassword` to be a non-empty password for user "test", got `""` (string): the image creates no user without a password; for a password-less login use withUsername("root") with withRootPassword("")',
    );
  });

  it("refuses two different passwords for root, without printing either", () => {
    const error = invalid(() => settings({ username: "root", userPassword: "secret-1", rootPassword: "secret-2" }));
    expect(error.shortMessage).toBe(
      'Expected `withUsername` to be a user other than root when withUserPassword and withRootPassword differ, got `"root"` (string): root has one password: set it with withRootPassword only',
    );
    expect(error.message).not.toMatch(/secret/);
  });

  it("refuses environment variables it manages itself, naming the option to use", () => {
    expect(invalid(() => settings({}, { MYSQL_ROOT_PASSWORD: "x" })).shortMessage).toBe(
      'Expected `withEnvironment` to be free of the variables MySqlContainer sets itself, got `"MYSQL_ROOT_PASSWORD"` (string): use withRootPassword instead',
    );
    expect(invalid(() => settings({}, { MYSQL_ALLOW_EMPTY_PASSWORD: "yes" })).shortMessage).toBe(
      'Expected `withEnvironment` to be free of the variables MySqlContainer sets itself, got `"MYSQL_ALLOW_EMPTY_PASSWORD"` (string): use withRootPassword("") instead',
    );
    expect(settings({}, { TZ: "UTC" }).database).toBe("test");
  });

  it("checks names", () => {
    expect(invalid(() => settings({ database: "" })).shortMessage).toBe(
      'Expected `withDatabase` to be a non-empty string, got `""` (string)',
    );
    expect(invalid(() => settings({ database: "mysql" })).shortMessage).toBe(
      'Expected `withDatabase` to be a database of your own (not a system schema), got `"mysql"` (string): pick another name, e.g. `test`',
    );
    expect(invalid(() => settings({ database: "a".repeat(65) })).shortMessage).toMatch(
      /^Expected `withDatabase` to be at most 64 characters long/,
    );
    expect(invalid(() => settings({ username: "x".repeat(33) })).shortMessage).toMatch(
      /^Expected `withUsername` to be at most 32 characters long/,
    );
    expect(invalid(() => settings({ database: "__throwaway_snapshot_x" })).shortMessage).toBe(
      'Expected `withDatabase` to be a name not starting with `__throwaway_snapshot_` (kept for snapshots), got `"__throwaway_snapshot_x"` (string)',
    );
  });

  it("checks server args and config text", () => {
    expect(invalid(() => settings({ serverArgs: ["max_connections=50"] })).shortMessage).toBe(
      'Expected `withServerArgs` to be server options such as `--max-connections=50`, got `"max_connections=50"` (string): write each option as "--name=value", one array item per option',
    );
    expect(invalid(() => settings({ configs: ["max_connections = 50\n"] })).shortMessage).toBe(
      'Expected `withConfig(#1)` to be my.cnf text that starts with a group, got `"max_connections = 50"` (string): put a group such as "[mysqld]" before the first option',
    );
    expect(settings({ configs: ["# comment\n\n[mysqld]\nmax_connections = 50\n"], serverArgs: ["--skip-log-bin"] })).toMatchObject({
      configs: ["# comment\n\n[mysqld]\nmax_connections = 50\n"],
      serverArgs: ["--skip-log-bin"],
    });
  });

  it("start() throws before anything is created", async () => {
    const error = await new MySqlContainer()
      .withUserPassword("")
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("withUserPassword");
    const both = await new MySqlContainer()
      .withCommand(["mysqld"])
      .withServerArgs("--max-connections=50")
      .start()
      .catch((e: unknown) => e);
    expect((both as InvalidOptionError).shortMessage).toBe(
      'Expected `withServerArgs` to be used without withCommand (both set the server\'s command line), got `["--max-connections=50"]` (array): put the server options in withServerArgs only',
    );
  });
});

describe("init scripts", () => {
  const dir = mkdtempSync(join(tmpdir(), "throwaway-mysql-init-"));
  writeFileSync(join(dir, "one.sql"), "SELECT 1;");
  mkdirSync(join(dir, "folder"));
  writeFileSync(join(dir, "folder", "b.sql"), "SELECT 2;");
  writeFileSync(join(dir, "folder", "a.sh"), "echo hi");
  writeFileSync(join(dir, "folder", "README.md"), "not a script");
  mkdirSync(join(dir, "empty"));
  writeFileSync(join(dir, "notes.txt"), "x");

  it("numbers files so the entrypoint runs them in the order given, folders in name order", async () => {
    const items = await resolveInitScripts([pathToFileURL(join(dir, "one.sql")), join(dir, "folder"), { sql: "SELECT 3", name: "third" }]);
    expect(items.map((item) => item.target)).toEqual([
      "/docker-entrypoint-initdb.d/001-one.sql",
      "/docker-entrypoint-initdb.d/002-a.sh",
      "/docker-entrypoint-initdb.d/003-b.sql",
      "/docker-entrypoint-initdb.d/004-third.sql",
    ]);
    expect(items[3]).toEqual({ kind: "content", content: "SELECT 3", target: "/docker-entrypoint-initdb.d/004-third.sql", mode: 0o644 });
  });

  it("refuses what the image would silently skip, and missing paths", async () => {
    const reason = async (script: unknown) =>
      ((await resolveInitScripts([script]).catch((e: unknown) => e)) as InvalidOptionError).shortMessage;
    expect(await reason(join(dir, "notes.txt"))).toBe(
      `Expected \`withInitScripts\` to be a .sql, .sql.gz, .sql.xz, .sql.zst or .sh file (the image ignores other files), got \`${JSON.stringify(join(dir, "notes.txt"))}\` (string): rename it, or pass its text as \`{ sql }\``,
    );
    expect(await reason(join(dir, "empty"))).toBe(
      `Expected \`withInitScripts\` to be a folder with .sql, .sql.gz, .sql.xz, .sql.zst or .sh files, got \`${JSON.stringify(join(dir, "empty"))}\` (string): ${join(dir, "empty")} has none`,
    );
    expect(await reason("CREATE TABLE t (id INT)")).toMatch(
      /^Expected `withInitScripts` to be the path of an existing file or folder, or `\{ sql \}` for SQL text, got `"CREATE TABLE t \(id INT\)"` \(string\): nothing exists at /,
    );
    expect(await reason({ sql: "  " })).toBe('Expected `withInitScripts({ sql })` to be non-empty SQL text, got `"  "` (string)');
  });
});

describe("platform", () => {
  it("runs amd64-only mysql 5.x images as linux/amd64 on arm64 engines only", () => {
    expect(mysqlPlatformFor("mysql:5.7", "aarch64")).toBe("linux/amd64");
    expect(mysqlPlatformFor("docker.io/library/mysql:5.7.44", "arm64")).toBe("linux/amd64");
    expect(mysqlPlatformFor("mirror.local:5000/library/mysql:5.6", "aarch64")).toBe("linux/amd64");
    expect(mysqlPlatformFor("mysql:5.7", "x86_64")).toBeUndefined();
    expect(mysqlPlatformFor("mysql:8.0", "aarch64")).toBeUndefined();
    expect(mysqlPlatformFor("mariadb:10.11", "aarch64")).toBeUndefined();
  });
});
