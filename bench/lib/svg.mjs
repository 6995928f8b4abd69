import { formatRatio } from "./stats.mjs";

/**
 * The ratio chart of bench/README.md, drawn by hand (no dependencies): one row pair per table line, throwaway over
 * testcontainers and throwaway over the CLI, on a log scale centred on 1x, so "2x faster" and "2x slower" are bars
 * of the same length on either side. Targets are red ticks.
 */

const MIN = 0.002;
const MAX = 32;
const TICKS = [0.002, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 32];
const COLORS = { testcontainers: "#2f6fdf", cli: "#8a8f98" };

function escapeXml(text) {
  return String(text).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}

/**
 * @param {ReturnType<typeof import("./report.mjs").tableLines>} lines
 * @param {{ title: string, subtitle: string }} text
 */
export function ratioChart(lines, { title, subtitle }) {
  const rows = lines.filter((l) => l.ratios.testcontainers !== undefined || l.ratios.cli !== undefined);
  const labelWidth = 390;
  const plotLeft = labelWidth + 10;
  const plotWidth = 560;
  const width = plotLeft + plotWidth + 90;
  const top = 70;
  const barHeight = 11;
  const groupHeight = barHeight * 2 + 12;
  const height = top + rows.length * groupHeight + 40;
  const x = (v) => plotLeft + ((Math.log(Math.min(Math.max(v, MIN), MAX)) - Math.log(MIN)) / (Math.log(MAX) - Math.log(MIN))) * plotWidth;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="38" fill="#555">${escapeXml(subtitle)}</text>`,
    `<rect x="${plotLeft}" y="46" width="10" height="10" fill="${COLORS.testcontainers}"/><text x="${plotLeft + 14}" y="55">throwaway / testcontainers</text>`,
    `<rect x="${plotLeft + 180}" y="46" width="10" height="10" fill="${COLORS.cli}"/><text x="${plotLeft + 194}" y="55">throwaway / docker CLI</text>`,
    `<line x1="${plotLeft + 340}" y1="51" x2="${plotLeft + 340}" y2="51" stroke="#d33" stroke-width="2"/><rect x="${plotLeft + 339}" y="45" width="2" height="12" fill="#d33"/><text x="${plotLeft + 346}" y="55">target (at most)</text>`,
  );
  for (const t of TICKS) {
    const tx = x(t).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 30}" stroke="${t === 1 ? "#333" : "#e3e3e3"}" stroke-width="${t === 1 ? 1.2 : 1}"/>`,
      `<text x="${tx}" y="${height - 16}" text-anchor="middle" fill="#555">${t}x</text>`,
    );
  }
  out.push(
    `<text x="${x(1) - 6}" y="${height - 4}" text-anchor="end" fill="#555">&#8592; throwaway faster / smaller</text>`,
    `<text x="${x(1) + 6}" y="${height - 4}" fill="#555">slower / larger &#8594;</text>`,
  );
  rows.forEach((line, i) => {
    const y = top + i * groupHeight;
    out.push(`<text x="${labelWidth}" y="${y + barHeight + 4}" text-anchor="end">${escapeXml(`${line.workload}. ${line.label}`)}</text>`);
    ["testcontainers", "cli"].forEach((against, j) => {
      const value = line.ratios[against];
      const by = y + j * (barHeight + 2);
      if (value === undefined) return;
      const x0 = x(1);
      const x1 = x(value);
      // Beyond the axis the bar stops at its end, marked with an arrow, and the label still tells the value.
      const clipped = value < MIN ? "&#9664; " : value > MAX ? " &#9654;" : "";
      const label = value < MIN ? `${clipped}${formatRatio(value)}` : `${formatRatio(value)}${clipped}`;
      out.push(
        `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${by}" width="${Math.max(Math.abs(x1 - x0), 1).toFixed(1)}" height="${barHeight}" fill="${COLORS[against]}"/>`,
        `<text x="${(Math.max(x0, x1) + 4).toFixed(1)}" y="${by + barHeight - 2}" font-size="10" fill="#333">${label}</text>`,
      );
      for (const target of line.targets ?? []) {
        if (target.kind === "ratio" && target.against === against) {
          out.push(`<rect x="${(x(target.max) - 1).toFixed(1)}" y="${by - 1}" width="2" height="${barHeight + 2}" fill="#d33"/>`);
        }
      }
    });
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
