/**
 * The benchmark chart README shows: two panels of horizontal bars, cold start to the first
 * secret on Node and bundle size (min+gz), each with the official client and the floors beside
 * our figures. Plain SVG text, no dependency; drawn from the sections `run.mjs` measured.
 */

/** @typedef {import("./lib.mjs").Section} Section */
/** @typedef {{ label: string, value: number, kind: "ours" | "official" | "floor", ratio?: number }} Bar */

const ROW = 26;
const LABEL = 300;
const BAR = 330;
const WIDTH = LABEL + BAR + 190;
const COLOURS = { ours: "#2f7d4f", official: "#8a8f98", floor: "#c9ccd1" };

const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * @param {string} title
 * @param {Bar[]} bars
 * @param {string} unit
 * @param {number} top y of the panel
 * @returns {{ svg: string, height: number }}
 */
function panel(title, bars, unit, top) {
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const parts = [`<text x="12" y="${top + 18}" class="title">${escape(title)}</text>`];
  bars.forEach((bar, i) => {
    const y = top + 30 + i * ROW;
    const width = Math.max(1, (bar.value / max) * BAR);
    const shown = bar.value >= 100 ? bar.value.toFixed(0) : bar.value.toFixed(1);
    parts.push(
      `<text x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW - 8}" fill="${COLOURS[bar.kind]}"/>`,
      `<text x="${(LABEL + width + 6).toFixed(1)}" y="${y + 15}">${shown} ${escape(unit)}${
        bar.kind === "ours" && bar.ratio !== undefined ? ` (${bar.ratio.toFixed(2)}× official)` : ""
      }</text>`,
    );
  });
  return { svg: parts.join("\n"), height: 40 + bars.length * ROW };
}

/**
 * Picks the rows named `names` (in that order) from a section, skipping the missing ones.
 *
 * @param {Section | undefined} section
 * @param {Array<[string, string, Bar["kind"]]>} picks row name, label, kind
 * @returns {Bar[]}
 */
function pick(section, picks) {
  if (!section) return [];
  return picks.flatMap(([name, label, kind]) => {
    const row = section.rows.find((r) => r.name === name);
    return row
      ? [{ label, value: row.value, kind, ratio: row.against?.startsWith("official") ? row.ratio : undefined }]
      : [];
  });
}

/**
 * @param {Record<string, Section>} sections by id; uses `cold-start` and `sizes`
 * @param {{ cold: Array<[string, string, Bar["kind"]]>, sizes: Array<[string, string, Bar["kind"]]>, caption: string }} layout
 *   which rows to draw, and the caption (machine, date, command)
 * @returns {string} the SVG document
 */
export function drawChart(sections, layout) {
  const panels = [];
  let top = 8;
  for (
    const [title, bars, unit] of [
      [
        "Cold start to the first secret, Node (median, lower is better)",
        pick(sections["cold-start"], layout.cold),
        "ms",
      ],
      ["Bundle size, min+gz (lower is better)", pick(sections.sizes, layout.sizes), "kB"],
    ]
  ) {
    if (!bars.length) continue;
    const drawn = panel(title, bars, unit, top);
    panels.push(drawn.svg);
    top += drawn.height + 10;
  }
  const legend = Object.entries({ ours: "cerberus-edge", official: "official client", floor: "floor" })
    .map(([kind, label], i) =>
      `<rect x="${12 + i * 150}" y="${top + 4}" width="12" height="12" fill="${COLOURS[kind]}"/>` +
      `<text x="${30 + i * 150}" y="${top + 15}">${label}</text>`
    ).join("\n");
  const height = top + 48;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
    `<title>cerberus-edge benchmarks: cold start and bundle size against the official client and the floor</title>`,
    `<style>text { font: 13px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; fill: #24292f; } .title { font-weight: 600; } .caption { font-size: 11px; fill: #57606a; }</style>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...panels,
    legend,
    `<text x="12" y="${top + 38}" class="caption">${escape(layout.caption)}</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
