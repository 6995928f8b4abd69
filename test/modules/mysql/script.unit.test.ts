// The .sql splitter behind executeScript: statements as the mysql client cuts them. Pure logic, no server.

import { describe, expect, it } from "vitest";
import { splitSqlScript } from "../../../src/modules/mysql/script.js";

describe("splitSqlScript", () => {
  it("splits on ; outside quotes, backticks and comments, with each statement's line", () => {
    const script = [
      "-- a comment; not a statement",
      "CREATE TABLE `a;b` (v VARCHAR(10));",
      "INSERT INTO `a;b` VALUES ('x;y'), (\"it\"\"s;\"), ('o''k;'), ('back\\';slash');",
      "# hash comment;",
      "/* block; comment */ SELECT 1; SELECT 2",
    ].join("\n");
    expect(splitSqlScript(script)).toEqual([
      { sql: "-- a comment; not a statement\nCREATE TABLE `a;b` (v VARCHAR(10))", line: 2 },
      { sql: "INSERT INTO `a;b` VALUES ('x;y'), (\"it\"\"s;\"), ('o''k;'), ('back\\';slash')", line: 3 },
      { sql: "# hash comment;\n/* block; comment */ SELECT 1", line: 5 },
      { sql: "SELECT 2", line: 5 },
    ]);
  });

  it("honours DELIMITER, as dumps with triggers and procedures use it", () => {
    const script = [
      "CREATE TABLE t (id INT);",
      "DELIMITER //",
      "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW",
      "BEGIN",
      "  SET NEW.id = NEW.id + 1;",
      "END//",
      "DELIMITER ;",
      "INSERT INTO t VALUES (1);",
    ].join("\n");
    expect(splitSqlScript(script)).toEqual([
      { sql: "CREATE TABLE t (id INT)", line: 1 },
      { sql: "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.id = NEW.id + 1;\nEND", line: 3 },
      { sql: "INSERT INTO t VALUES (1)", line: 8 },
    ]);
  });

  it("keeps executable comments (they are SQL) and drops comment-only leftovers", () => {
    expect(splitSqlScript("/*!40101 SET NAMES utf8 */;\n-- trailing\n/* only a comment */;\n")).toEqual([
      { sql: "/*!40101 SET NAMES utf8 */", line: 1 },
    ]);
    expect(splitSqlScript("  \n -- nothing\n")).toEqual([]);
  });

  it("treats -- without a following space as SQL (MySQL's rule), and a last statement without ;", () => {
    expect(splitSqlScript("SELECT 5--1;\nSELECT 'a'")).toEqual([
      { sql: "SELECT 5--1", line: 1 },
      { sql: "SELECT 'a'", line: 2 },
    ]);
  });
});
