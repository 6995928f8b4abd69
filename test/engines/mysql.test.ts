import { MySqlContainer } from "throwaway/mysql";
import { describe, expect, it } from "vitest";
import { traits } from "./profile.js";

describe(`MySQL on ${traits.description}`, () => {
  it("starts ready for queries, and restores a snapshot", async () => {
    await using mysql = await new MySqlContainer()
      .withInitScripts({ sql: "CREATE TABLE users (id INT PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada')" })
      .start();
    if (traits.remote) expect(mysql.getHost()).not.toBe("127.0.0.1");
    await mysql.snapshot();
    await mysql.executeQuery("INSERT INTO users VALUES (2, 'bob')");
    await mysql.executeQuery("DELETE FROM users WHERE id = 1");
    await mysql.restore();
    expect(await mysql.executeQuery("SELECT id, name FROM users ORDER BY id")).toEqual([{ id: 1, name: "ada" }]);
  });
});
