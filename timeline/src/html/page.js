"use strict";
// Errors show on the page itself: a timeline that silently draws nothing misleads.
window.onerror = function (message, source, line, column) {
  const box = document.getElementById("error");
  if (box) {
    box.textContent += "Error in the page's script: " + message + (line ? " (line " + line + ":" + column + ")" : "") + "\n";
  }
  return false;
};

(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const svg = document.getElementById("chart");
  const chartBox = document.getElementById("chart-box");
  const tip = document.getElementById("tip");
  const rangeText = document.getElementById("range");
  const note = document.getElementById("note");
  const showMessages = document.getElementById("show-messages");

  // ----- layout, in pixels -----
  // The row labels' column: 84 px, or wider if a server's name needs it (Lab 4's
  // `server-101-2`; Labs 2 and 3's `S4` fit in 84).
  const LABEL = (() => {
    const context = document.createElement("canvas").getContext("2d");
    if (!context) return 84;
    context.font = '600 13px system-ui, -apple-system, "Segoe UI", sans-serif'; // .row-label
    let widest = 0;
    for (const lane of data.lanes) widest = Math.max(widest, context.measureText(lane.name).width);
    return Math.max(84, Math.ceil(widest) + 16);
  })();
  const RIGHT = 14;
  const AXIS = 26;
  const LANE = 52;
  const CLIENT = 24;
  const GAP = 6;
  const NET_ROW = 14;
  const MERGE_PX = 2; // marks closer than this are drawn as one
  const MAX_MESSAGES = 3000;
  const CHAR_PX = 6.3; // a character's width at 11px, for fitting labels

  // Term bands, role strip and mark ticks inside a lane.
  const TERM_Y = 5;
  const TERM_H = 22;
  const ROLE_Y = 29;
  const ROLE_H = 6;
  const MARK_Y = 38;
  const MARK_H = 10;
  // The shard strip of a Lab 4 group server (a lane with shard spans), under its role
  // strip: such a lane is SHARD_ROW taller, its marks that much lower. Other lanes are
  // drawn as if the strip did not exist.
  const SHARD_Y = 37;
  const SHARD_H = 13;
  const SHARD_ROW = 15;
  const SHARD_CHAR_PX = 5.8; // a character's width at the strip's 10px

  // Indexed by the model's role numbers (timeline::model::Role), so pre-candidate, added
  // last, comes last; the legend lists them in Raft's order (ROLE_ORDER) instead.
  const ROLES = ["follower", "candidate", "leader", "pre-candidate"];
  // A pre-candidate is a lighter candidate: it is asking, not yet standing, for election.
  const ROLE_COLORS = ["#a8b8cc", "#f59e0b", "#1e4f91", "#fbc56b"];
  const ROLE_ORDER = [0, 3, 1, 2];
  const TERM_SHADES = ["#e6ecf4", "#d3deeb"];
  // Shard strips: two shades alternating with the configuration's number, pink while every
  // shard the configuration gives the group is served, amber while some wait for data.
  const SHARD_SHADES = ["#fbe2ee", "#f3c3d9"];
  const WAIT_SHADES = ["#fde3a0", "#f7cb62"];
  const NO_CONFIG = "#eceff3";
  const LEADER_TERM = "#2f6db5";
  const GROUP_COLORS = ["#14b8a6", "#f59e0b", "#a855f7", "#ec4899", "#84cc16", "#0ea5e9", "#f97316"];
  const NET_COLORS = { unreliable: "#fca5a5", "long delays": "#fcd34d", "long reordering": "#c4b5fd" };
  const NET_OTHER = "#cbd5e1";
  const KNOWN_TOPICS = {
    role: "#7c3aed",
    vote: "#ea580c",
    election: "#ea580c",
    commit: "#16a34a",
    apply: "#65a30d",
    append: "#0284c7",
    snapshot: "#0891b2",
    persist: "#a16207",
    log: "#64748b",
    "pre-vote": "#06b6d4",
    transfer: "#e879f9",
    config: "#84cc16",
    read: "#f59e0b",
    shards: "#be185d",
    "failed check": "#dc2626",
  };
  const PALETTE = ["#db2777", "#2563eb", "#ca8a04", "#9333ea", "#0d9488", "#b45309", "#4f46e5", "#be123c"];
  const FAIL = "#dc2626";
  const PASS = "#16a34a";

  // ----- data -----
  const topicColors = [];
  {
    let next = 0;
    for (const topic of data.topics) {
      topicColors.push(KNOWN_TOPICS[topic] || PALETTE[next++ % PALETTE.length]);
    }
  }
  const failedTopic = data.topics.indexOf("failed check");

  // Marks come column-wise, times as differences, repeated texts as back references.
  function decodeMarks(m, keep) {
    const t = [];
    const k = [];
    const x = [];
    let at = 0;
    for (let i = 0; i < m.t.length; i++) {
      at += m.t[i];
      if (!keep(m.k[i])) continue;
      const text = m.x[i];
      t.push(at);
      k.push(m.k[i]);
      x.push(typeof text === "number" ? m.x[text] : text);
    }
    return { t: Float64Array.from(t), k: k, x: x };
  }

  const lanes = data.lanes.map((lane) => ({
    name: lane.name,
    down: lane.down,
    terms: lane.terms,
    roles: lane.roles,
    cut: lane.cut,
    // Only Lab 4's group servers have shard spans (the field is absent otherwise).
    shards: lane.shards || [],
    marks: decodeMarks(lane.marks, (k) => k !== failedTopic),
    fails: decodeMarks(lane.marks, (k) => k === failedTopic),
  }));
  // Each lane's top (from the first lane's) and height: taller with a shard strip.
  let lanesHeight = 0;
  for (const lane of lanes) {
    lane.top = lanesHeight;
    lane.height = LANE + (lane.shards.length ? SHARD_ROW : 0);
    lanesHeight += lane.height;
  }
  const testerMarks = decodeMarks(data.tester.marks, () => true);
  const phases = data.tester.phases;
  const checks = data.tester.checks;
  const net = data.tester.net;
  const netSettings = [];
  for (const span of net) if (!netSettings.includes(span[2])) netSettings.push(span[2]);
  netSettings.sort((a, b) => netOrder(a) - netOrder(b) || (a < b ? -1 : 1));
  function netOrder(setting) {
    const known = ["unreliable", "long delays", "long reordering"].indexOf(setting);
    return known < 0 ? 9 : known;
  }
  const netColor = (setting) => NET_COLORS[setting] || NET_OTHER;

  // Messages: a flat array of [Δat, at - sent, from, to, method, reply].
  const messages = { sent: [], at: [], from: [], to: [], method: [], reply: [] };
  {
    let at = 0;
    const m = data.messages;
    for (let i = 0; i + 5 < m.length; i += 6) {
      at += m[i];
      messages.at.push(at);
      messages.sent.push(at - m[i + 1]);
      messages.from.push(m[i + 2]);
      messages.to.push(m[i + 3]);
      messages.method.push(m[i + 4]);
      messages.reply.push(m[i + 5]);
    }
  }
  const messageCount = messages.at.length;

  const end = Math.max(data.end, 1);
  // A little room on both sides, so marks at the very start and end are whole.
  const PAD = end * 0.004;
  const DOMAIN = [-PAD, end + PAD];
  const MIN_SPAN = 5; // µs
  let view = { t0: DOMAIN[0], t1: DOMAIN[1] };

  // ----- vertical layout -----
  const testerMarkBand = testerMarks.t.length > 0;
  const TESTER_NET = netSettings.length * NET_ROW;
  const TESTER_PHASE_Y = TESTER_NET + 16; // phase labels' baseline
  const TESTER_CHECK_Y = TESTER_NET + 22;
  const TESTER_CHECK_H = 12;
  const TESTER_MARK_Y = TESTER_CHECK_Y + TESTER_CHECK_H + 3;
  const TESTER_H = TESTER_MARK_Y + (testerMarkBand ? MARK_H + 4 : 0) + 2;
  const testerTop = AXIS;
  const lanesTop = testerTop + TESTER_H + GAP;
  const clientsTop = lanesTop + lanesHeight + (data.clients.length ? GAP : 0);
  const height = clientsTop + data.clients.length * CLIENT + 8;

  // ----- formatting -----
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function fmtTime(us) {
    const s = us / 1e6;
    return (Math.round(us) % 1000 === 0 ? s.toFixed(3) : s.toFixed(6)) + " s";
  }
  function fmtDuration(us) {
    if (us < 1000) return Math.round(us) + " µs";
    if (us < 1e6) return +(us / 1000).toFixed(us < 1e4 ? 3 : 1) + " ms";
    return +(us / 1e6).toFixed(3) + " s";
  }
  function fmtSpan(from, to) {
    return fmtTime(from) + " – " + fmtTime(to) + " (" + fmtDuration(to - from) + ")";
  }
  // `text` cut to fit `px` pixels, or "" if nothing useful fits.
  function fit(text, px) {
    const chars = Math.floor(px / CHAR_PX);
    if (chars >= text.length) return text;
    if (chars < 4) return "";
    return text.slice(0, chars - 1) + "…";
  }
  // A shard span's label, as the log reader prints it: `c4 · 0 1 2 · ⇣3 4`.
  function shardLabel(config, serving, waiting) {
    return "c" + config + " · " + (serving.length ? serving.join(" ") : "–") + (waiting.length ? " · ⇣" + waiting.join(" ") : "");
  }
  // The same in words, for its tooltip.
  function shardWords(config, serving, waiting) {
    const shards = (list) => (list.length === 1 ? "shard " : "shards ") + list.join(" ");
    let text = "configuration " + config + (config === 0 ? " (none applied yet)" : "");
    text += ": serves " + (serving.length ? shards(serving) : "no shards");
    if (waiting.length) text += "; waiting for the data of " + shards(waiting);
    return text;
  }
  function lowerBound(times, value) {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ----- header -----
  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function header() {
    document.getElementById("title").textContent = data.test || "Timeline";
    const verdict = document.getElementById("verdict");
    if (data.failure) {
      verdict.className = "verdict failed";
      verdict.appendChild(element("b", "", "FAILED"));
      verdict.appendChild(element("pre", "", data.failure));
    } else {
      verdict.className = "verdict passed";
      verdict.textContent = "passed";
    }
    const meta = document.getElementById("meta");
    const parts = [];
    const seed = element("span", "", "seed ");
    seed.appendChild(element("code", "", data.seed));
    parts.push(seed);
    parts.push(element("span", "", "virtual time " + fmtDuration(data.end)));
    if (data.dropped > 0) parts.push(element("b", "", data.dropped + " later events not recorded (too many)"));
    if (!lanes.length && !data.clients.length && !phases.length) parts.push(element("span", "", "no servers or tester events recorded"));
    const command = data.replay || (data.test ? "LAB_SEED=" + data.seed + " cargo test -p tests -- --exact " + data.test : "");
    if (command) {
      const replay = element("span", "", "replay: ");
      replay.appendChild(element("code", "", command));
      parts.push(replay);
    }
    for (const [text, path] of data.links) {
      const a = element("a", "", text);
      a.href = "file://" + encodeURI(path).replace(/#/g, "%23").replace(/\?/g, "%3F");
      a.title = path;
      parts.push(a);
    }
    parts.forEach((part, i) => {
      if (i > 0) meta.appendChild(element("span", "sep", "|"));
      meta.appendChild(part);
    });
  }

  function legend() {
    const box = document.getElementById("legend");
    function group(title, items) {
      if (!items.length) return;
      const g = element("div", "legend-group");
      g.appendChild(element("b", "", title));
      for (const [swatch, label] of items) {
        const item = element("span");
        const sw = element("span", "sw " + (swatch.className || ""));
        if (swatch.color) sw.style.background = swatch.color;
        if (swatch.border) sw.style.borderColor = swatch.border;
        item.appendChild(sw);
        item.appendChild(document.createTextNode(label));
        g.appendChild(item);
      }
      box.appendChild(g);
    }
    const anyDown = lanes.some((l) => l.down.some((d) => !d[2]));
    const anyUnstarted = lanes.some((l) => l.down.some((d) => d[2]));
    const groups = new Set();
    let anyAlone = false;
    for (const l of lanes) {
      for (const c of l.cut) {
        if (c[3]) anyAlone = true;
        else groups.add(c[2]);
      }
    }
    const laneItems = [
      [{ color: TERM_SHADES[0] }, "term"],
      [{ color: TERM_SHADES[1] }, "next term"],
      [{ color: LEADER_TERM }, "term as leader"],
    ];
    // Pre-candidate only when some server was one: a Raft without Pre-Vote never is.
    const roleSeen = new Set();
    for (const l of lanes) for (const r of l.roles) roleSeen.add(r[2]);
    for (const i of ROLE_ORDER) if (i < 3 || roleSeen.has(i)) laneItems.push([{ color: ROLE_COLORS[i] }, ROLES[i]]);
    if (anyDown) laneItems.push([{ className: "hatch" }, "down"]);
    if (anyUnstarted) laneItems.push([{ className: "unstarted" }, "not started"]);
    if (lanes.length) group("Servers", laneItems);
    const shardSpans = [];
    for (const l of lanes) shardSpans.push(...l.shards);
    if (shardSpans.length) {
      const shardItems = [
        [{ color: SHARD_SHADES[0] }, "configuration (c4 · shards served)"],
        [{ color: SHARD_SHADES[1] }, "next configuration"],
      ];
      if (shardSpans.some((s) => s[4].length)) shardItems.push([{ color: WAIT_SHADES[1] }, "waiting for shards' data (⇣)"]);
      if (shardSpans.some((s) => s[2] === 0)) shardItems.push([{ color: NO_CONFIG }, "no configuration yet"]);
      group("Shards", shardItems);
    }
    const cutItems = [...groups].sort((a, b) => a - b).map((g) => [{ color: groupFill(g, 0.35) }, "group " + groupName(g)]);
    if (anyAlone) cutItems.push([{ className: "alone" }, "cut off alone"]);
    group("Partition", cutItems);
    const used = new Set();
    for (const l of lanes) for (const k of l.marks.k) used.add(k);
    for (const k of testerMarks.k) used.add(k);
    const topicItems = [...used].sort((a, b) => a - b).map((k) => [{ className: "tick", color: topicColors[k] }, data.topics[k]]);
    if (lanes.some((l) => l.fails.t.length)) topicItems.push([{ className: "tick", color: FAIL }, "failed check"]);
    group("Marks", topicItems);
    const testerItems = [];
    if (phases.length) testerItems.push([{ className: "dash" }, "phase"]);
    if (checks.some((c) => c[2])) testerItems.push([{ className: "tick", color: PASS }, "check passed"]);
    if (checks.some((c) => !c[2])) testerItems.push([{ className: "tick", color: FAIL }, "check failed"]);
    for (const setting of netSettings) testerItems.push([{ color: netColor(setting) }, setting]);
    group("Tester", testerItems);
    if (data.clients.length) {
      group("Clients", [
        [{ color: opColors("get")[0], border: opColors("get")[1] }, "Get"],
        [{ color: opColors("put")[0], border: opColors("put")[1] }, "Put"],
        [{ color: opColors("append")[0], border: opColors("append")[1] }, "Append"],
      ]);
    }
    if (messageCount) {
      group("Messages", [
        [{ className: "line", border: "#2563eb" }, "request"],
        [{ className: "line", border: "#9ca3af" }, "reply"],
      ]);
    }
  }

  function groupName(g) {
    return String.fromCharCode(65 + (g % 26));
  }
  function groupFill(g, alpha) {
    const hex = GROUP_COLORS[g % GROUP_COLORS.length];
    const n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }
  function opColors(text) {
    const word = text.trimStart().toLowerCase();
    if (word.startsWith("get")) return ["#dcfce7", "#16a34a"];
    if (word.startsWith("put")) return ["#dbeafe", "#2563eb"];
    if (word.startsWith("append")) return ["#f3e8ff", "#9333ea"];
    return ["#f1f5f9", "#64748b"];
  }

  // ----- drawing -----
  let tips = []; // tooltip makers of the drawn elements, by their data-k
  let geometry = null; // the last render's scale, for the mouse

  function render() {
    const width = Math.max(chartBox.clientWidth, 500);
    const plotW = width - LABEL - RIGHT;
    const span = view.t1 - view.t0;
    const scale = plotW / span;
    const t0 = view.t0;
    const t1 = view.t1;
    const X = (t) => LABEL + (t - t0) * scale;
    // Coordinates of spans reaching far outside the view are kept near it: browsers
    // draw huge ones badly.
    const cx = (t) => Math.max(LABEL - 4, Math.min(LABEL + plotW + 4, X(t)));
    const f = (x) => Math.round(x * 10) / 10;
    const merge = MERGE_PX / scale; // in µs
    geometry = { X: X, scale: scale, plotW: plotW, width: width };
    tips = [];
    const tipOf = (make) => {
      tips.push(make);
      return ' data-k="' + (tips.length - 1) + '"';
    };
    const out = [];

    out.push(
      "<defs>" +
        '<pattern id="hatch-down" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)">' +
        '<rect width="7" height="7" fill="#4b5563"/><rect width="3" height="7" fill="#6b7280"/></pattern>' +
        '<pattern id="hatch-unstarted" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)">' +
        '<rect width="7" height="7" fill="#e5e7eb"/><rect width="3" height="7" fill="#d1d5db"/></pattern>' +
        '<pattern id="hatch-alone" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(-45)">' +
        '<rect width="6" height="6" fill="rgba(254,226,226,0.85)"/><rect width="2" height="6" fill="rgba(220,38,38,0.38)"/></pattern>' +
        '<marker id="arrow-req" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto">' +
        '<path d="M0,0L8,4L0,8z" fill="#2563eb"/></marker>' +
        '<marker id="arrow-reply" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto">' +
        '<path d="M0,0L8,4L0,8z" fill="#9ca3af"/></marker>' +
        '<clipPath id="plot-clip"><rect x="' + LABEL + '" y="0" width="' + plotW + '" height="' + height + '"/></clipPath>' +
        "</defs>"
    );

    // Axis and grid: steps of 1, 2 or 5 times a power of ten, about 110 px apart.
    const raw = (span * 110) / plotW;
    const pow = Math.pow(10, Math.floor(Math.log10(raw)));
    // Times are whole microseconds: no finer ticks.
    const step = Math.max(1, [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) || 10 * pow);
    const decimals = Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / 1e6) - 1e-9)));
    out.push('<g class="axis">');
    out.push('<rect class="label-bg" x="0" y="0" width="' + LABEL + '" height="' + height + '"/>');
    for (let t = Math.ceil(Math.max(t0, 0) / step) * step; t <= Math.min(t1, end); t += step) {
      const x = f(X(t));
      out.push('<line class="grid" x1="' + x + '" x2="' + x + '" y1="' + AXIS + '" y2="' + height + '"/>');
      out.push('<line class="axis-tick" x1="' + x + '" x2="' + x + '" y1="' + (AXIS - 6) + '" y2="' + AXIS + '"/>');
      const label = (t / 1e6).toFixed(decimals) + " s";
      // Labels at the edges stay whole.
      const half = (label.length * CHAR_PX) / 2;
      const lx = f(Math.max(LABEL + half + 2, Math.min(width - half - 2, x)));
      out.push('<text class="axis-label" x="' + lx + '" y="' + (AXIS - 9) + '" text-anchor="middle">' + label + "</text>");
    }
    out.push('<line class="row-line" x1="0" x2="' + width + '" y1="' + AXIS + '" y2="' + AXIS + '"/>');
    out.push('<line class="label-line" x1="' + LABEL + '" x2="' + LABEL + '" y1="0" y2="' + height + '"/>');
    out.push("</g>");

    // Point events in [from, to) of sorted `times`, merged when closer than MERGE_PX.
    function eachGroup(times, fn) {
      let i = lowerBound(times, t0 - merge);
      const stop = lowerBound(times, t1 + merge);
      while (i < stop) {
        let j = i + 1;
        while (j < stop && times[j] - times[i] < merge) j++;
        fn(i, j);
        i = j;
      }
    }

    function marksTip(marks, i, j, what) {
      return () => {
        const n = j - i;
        if (n === 1) return [fmtTime(marks.t[i]), what(i)];
        const counts = new Map();
        for (let m = i; m < j; m++) counts.set(marks.k[m], (counts.get(marks.k[m]) || 0) + 1);
        const byTopic = [...counts].map(([k, c]) => data.topics[k] + " ×" + c).join(", ");
        const lines = [fmtSpan(marks.t[i], marks.t[j - 1]), n + " marks (" + byTopic + "):"];
        for (let m = i; m < Math.min(j, i + 8); m++) lines.push("• " + fmtTime(marks.t[m]) + "  " + what(m));
        if (n > 8) lines.push("… and " + (n - 8) + " more: zoom in");
        return lines;
      };
    }

    function drawMarks(marks, y, h, colorOf) {
      eachGroup(marks.t, (i, j) => {
        let k = marks.k[i];
        if (j - i > 1) {
          // The most frequent topic colours a merged mark.
          const counts = new Map();
          let best = 0;
          for (let m = i; m < j; m++) {
            const c = (counts.get(marks.k[m]) || 0) + 1;
            counts.set(marks.k[m], c);
            if (c > best) {
              best = c;
              k = marks.k[m];
            }
          }
        }
        const x = X(marks.t[i]);
        const w = Math.max(2, X(marks.t[j - 1]) - x + 2);
        const what = (m) => data.topics[marks.k[m]] + ": " + marks.x[m];
        out.push(
          '<rect class="mark" x="' + f(x - 1) + '" y="' + y + '" width="' + f(w) + '" height="' + h + '" fill="' + colorOf(k) + '"' +
            tipOf(marksTip(marks, i, j, what)) + "/>"
        );
      });
    }

    // Phases, merged like marks; labels where there is room before the next one.
    const phaseTimes = phases.map((p) => p[0]);
    const phaseGroups = [];
    eachGroup(phaseTimes, (i, j) => phaseGroups.push([i, j]));

    // ----- the tester's row -----
    out.push('<g class="tester">');
    out.push('<rect class="row-bg alt" x="0" y="' + testerTop + '" width="' + width + '" height="' + TESTER_H + '"/>');
    out.push('<rect class="label-bg" x="0" y="' + testerTop + '" width="' + LABEL + '" height="' + TESTER_H + '"/>');
    out.push('<text class="row-label" x="8" y="' + (testerTop + 17) + '">tester</text>');
    out.push('<g clip-path="url(#plot-clip)">');
    for (const [from, to, setting] of net) {
      if (to < t0 || from > t1) continue;
      const row = netSettings.indexOf(setting);
      const x = cx(from);
      const w = Math.max(2, cx(to) - x);
      const y = testerTop + 3 + row * NET_ROW;
      out.push(
        '<rect class="net" x="' + f(x) + '" y="' + y + '" width="' + f(w) + '" height="' + (NET_ROW - 3) + '" rx="2" fill="' + netColor(setting) + '"' +
          tipOf(() => [fmtSpan(from, to), "network: " + setting]) + "/>"
      );
      const label = fit(setting, w - 6);
      if (label) out.push('<text class="net-label" x="' + f(x + 4) + '" y="' + (y + NET_ROW - 5) + '">' + esc(label) + "</text>");
    }
    phaseGroups.forEach(([i, j], g) => {
      const x = X(phases[i][0]);
      const next = g + 1 < phaseGroups.length ? X(phases[phaseGroups[g + 1][0]][0]) : LABEL + plotW;
      const text = j - i > 1 ? phases[j - 1][1] + " (+" + (j - i - 1) + " more)" : phases[i][1];
      const label = fit(text, Math.min(next - x - 8, 420));
      const make = () => {
        if (j - i === 1) return [fmtTime(phases[i][0]), "phase: " + phases[i][1]];
        const lines = [fmtSpan(phases[i][0], phases[j - 1][0]), j - i + " phases:"];
        for (let m = i; m < Math.min(j, i + 10); m++) lines.push("• " + fmtTime(phases[m][0]) + "  " + phases[m][1]);
        if (j - i > 10) lines.push("… and " + (j - i - 10) + " more: zoom in");
        return lines;
      };
      const k = tipOf(make);
      out.push('<rect class="hit phase" x="' + f(x - 3) + '" y="' + (testerTop + TESTER_NET) + '" width="6" height="' + (TESTER_H - TESTER_NET) + '"' + k + "/>");
      if (label) out.push('<text class="phase-label" x="' + f(x + 4) + '" y="' + (testerTop + TESTER_PHASE_Y) + '"' + k + ">" + esc(label) + "</text>");
    });
    {
      const times = checks.map((c) => c[0]);
      eachGroup(times, (i, j) => {
        let failed = 0;
        for (let m = i; m < j; m++) if (!checks[m][2]) failed++;
        const x = X(times[i]);
        const w = Math.max(2, X(times[j - 1]) - x + 2);
        const make = () => {
          const what = (m) => (checks[m][2] ? "✓ " : "✗ FAILED: ") + checks[m][1];
          if (j - i === 1) return [fmtTime(times[i]), "check " + what(i)];
          const lines = [fmtSpan(times[i], times[j - 1]), j - i + " checks, " + failed + " failed:"];
          // Failed checks first: they are what one looks for.
          const order = [];
          for (let m = i; m < j; m++) if (!checks[m][2]) order.push(m);
          for (let m = i; m < j; m++) if (checks[m][2]) order.push(m);
          for (const m of order.slice(0, 8)) lines.push("• " + fmtTime(times[m]) + "  " + what(m));
          if (j - i > 8) lines.push("… and " + (j - i - 8) + " more: zoom in");
          return lines;
        };
        out.push(
          '<rect class="check ' + (failed ? "fail" : "pass") + '" x="' + f(x - 1) + '" y="' + (testerTop + TESTER_CHECK_Y) + '" width="' + f(w) +
            '" height="' + TESTER_CHECK_H + '" fill="' + (failed ? FAIL : PASS) + '"' + tipOf(make) + "/>"
        );
      });
    }
    if (testerMarkBand) drawMarks(testerMarks, testerTop + TESTER_MARK_Y, MARK_H, (k) => topicColors[k]);
    out.push("</g>");
    out.push('<line class="row-line" x1="0" x2="' + width + '" y1="' + (testerTop + TESTER_H) + '" y2="' + (testerTop + TESTER_H) + '"/>');
    out.push("</g>");

    // ----- server lanes -----
    lanes.forEach((lane, index) => {
      const y = lanesTop + lane.top;
      const H = lane.height;
      out.push('<g class="lane" data-node="' + esc(lane.name) + '">');
      out.push('<rect class="row-bg' + (index % 2 ? " alt" : "") + '" x="' + LABEL + '" y="' + y + '" width="' + (width - LABEL) + '" height="' + H + '"/>');
      out.push('<rect class="label-bg" x="0" y="' + y + '" width="' + LABEL + '" height="' + H + '"/>');
      out.push('<text class="row-label" x="8" y="' + (y + 22) + '">' + esc(lane.name) + "</text>");
      out.push('<g clip-path="url(#plot-clip)">');
      for (const [from, to, group, alone] of lane.cut) {
        if (to < t0 || from > t1) continue;
        const x = cx(from);
        const w = Math.max(1, cx(to) - x);
        const fill = alone ? "url(#hatch-alone)" : groupFill(group, 0.2);
        // A solid edge on top names the group even where the bands cover the tint.
        out.push('<rect class="cut-edge" x="' + f(x) + '" y="' + y + '" width="' + f(w) + '" height="3" fill="' + (alone ? FAIL : groupFill(group, 0.9)) + '"/>');
        out.push(
          '<rect class="cut' + (alone ? " alone" : "") + '" data-group="' + group + '" x="' + f(x) + '" y="' + y + '" width="' + f(w) + '" height="' + H + '" fill="' + fill + '"' +
            tipOf(() => [fmtSpan(from, to), "partition: " + lane.name + (alone ? " cut off alone" : " in group " + groupName(group) + " (" + groupMembers(from, group) + ")")]) +
            "/>"
        );
      }
      for (const [from, to, term, leader] of lane.terms) {
        if (to < t0 || from > t1) continue;
        const x = cx(from);
        const w = Math.max(1, cx(to) - x);
        const fill = leader ? LEADER_TERM : TERM_SHADES[term % 2];
        out.push(
          '<rect class="term' + (leader ? " lead" : "") + '" data-term="' + term + '" x="' + f(x) + '" y="' + (y + TERM_Y) + '" width="' + f(w) + '" height="' + TERM_H + '" fill="' + fill + '"' +
            tipOf(() => [fmtSpan(from, to), lane.name + ": term " + term + (leader ? ", leader" : "")]) +
            "/>"
        );
        const label = w > 110 && leader ? "term " + term + " · leader" : w > 50 ? "term " + term : w > 8 + String(term).length * CHAR_PX ? String(term) : "";
        if (label) {
          out.push(
            '<text class="term-label' + (leader ? " lead" : "") + '" x="' + f(x + w / 2) + '" y="' + (y + TERM_Y + 15) + '" text-anchor="middle">' + label + "</text>"
          );
        }
      }
      for (const [from, to, role] of lane.roles) {
        if (to < t0 || from > t1) continue;
        const x = cx(from);
        const w = Math.max(1, cx(to) - x);
        out.push(
          '<rect class="role" data-role="' + ROLES[role] + '" x="' + f(x) + '" y="' + (y + ROLE_Y) + '" width="' + f(w) + '" height="' + ROLE_H + '" fill="' + ROLE_COLORS[role] + '"' +
            tipOf(() => [fmtSpan(from, to), lane.name + ": " + ROLES[role]]) +
            "/>"
        );
      }
      for (const [from, to, config, serving, waiting] of lane.shards) {
        if (to < t0 || from > t1) continue;
        let x = cx(from);
        let w = Math.max(1, cx(to) - x);
        // A pixel of background before each span parts it from the one it follows.
        if (w > 3) {
          x += 1;
          w -= 1;
        }
        const fill = config === 0 ? NO_CONFIG : (waiting.length ? WAIT_SHADES : SHARD_SHADES)[config % 2];
        out.push(
          '<rect class="shards' + (waiting.length ? " waiting" : "") + '" data-config="' + config + '" x="' + f(x) + '" y="' + (y + SHARD_Y) + '" width="' + f(w) + '" height="' + SHARD_H + '" fill="' + fill + '"' +
            tipOf(() => [fmtSpan(from, to), lane.name, shardWords(config, serving, waiting)]) +
            "/>"
        );
        // The whole label, or just the configuration (and ⇣ if it waits), or nothing.
        const room = w - 6;
        const full = shardLabel(config, serving, waiting);
        const short = "c" + config + (waiting.length ? " ⇣" : "");
        const label = (full.length + 1) * SHARD_CHAR_PX <= room ? full : (short.length + 1) * SHARD_CHAR_PX <= room ? short : "";
        if (label) out.push('<text class="shard-label" x="' + f(x + 3) + '" y="' + (y + SHARD_Y + 10) + '">' + esc(label) + "</text>");
      }
      drawMarks(lane.marks, y + (lane.shards.length ? MARK_Y + SHARD_ROW : MARK_Y), MARK_H, (k) => topicColors[k]);
      // Failed checks stand out: tall red marks over the whole lane.
      eachGroup(lane.fails.t, (i, j) => {
        const x = X(lane.fails.t[i]);
        const w = Math.max(3, X(lane.fails.t[j - 1]) - x + 3);
        out.push(
          '<rect class="mark fail" x="' + f(x - 1.5) + '" y="' + (y + 2) + '" width="' + f(w) + '" height="' + (H - 4) + '" fill="' + FAIL + '"' +
            tipOf(marksTip(lane.fails, i, j, (m) => "FAILED check: " + lane.fails.x[m])) +
            "/>"
        );
      });
      for (const [from, to, unstarted] of lane.down) {
        if (to < t0 || from > t1) continue;
        const x = cx(from);
        const w = Math.max(2, cx(to) - x);
        out.push(
          '<rect class="crash' + (unstarted ? " unstarted" : "") + '" x="' + f(x) + '" y="' + (y + 1) + '" width="' + f(w) + '" height="' + (H - 2) + '" fill="url(#hatch-' + (unstarted ? "unstarted" : "down") + ')"' +
            tipOf(() => [fmtSpan(from, to), lane.name + (unstarted ? " not started yet" : " down (crashed)")]) +
            "/>"
        );
        const label = unstarted ? (w > 80 ? "not started" : "") : w > 40 ? "down" : "";
        if (label) {
          out.push(
            '<text class="crash-label' + (unstarted ? " unstarted" : "") + '" x="' + f(x + w / 2) + '" y="' + (y + H / 2 + 4) + '" text-anchor="middle">' + label + "</text>"
          );
        }
      }
      out.push("</g>");
      out.push('<line class="row-line" x1="0" x2="' + width + '" y1="' + (y + H) + '" y2="' + (y + H) + '"/>');
      out.push("</g>");
    });

    // ----- client rows -----
    data.clients.forEach((client, index) => {
      const y = clientsTop + index * CLIENT;
      out.push('<g class="client" data-client="' + esc(client.name) + '">');
      out.push('<rect class="row-bg' + (index % 2 ? " alt" : "") + '" x="' + LABEL + '" y="' + y + '" width="' + (width - LABEL) + '" height="' + CLIENT + '"/>');
      out.push('<rect class="label-bg" x="0" y="' + y + '" width="' + LABEL + '" height="' + CLIENT + '"/>');
      out.push('<text class="row-label" x="8" y="' + (y + 16) + '" style="font-weight:500;font-size:12px">' + esc(client.name) + "</text>");
      out.push('<g clip-path="url(#plot-clip)">');
      const ops = client.ops;
      let i = 0;
      while (i < ops.length) {
        const [call, ret] = ops[i];
        if (ret < t0 - merge || call > t1 + merge) {
          i++;
          continue;
        }
        // Tiny operations next to each other are drawn as one box.
        let j = i + 1;
        let last = ret;
        if (X(ret) - X(call) < MERGE_PX) {
          while (j < ops.length && ops[j][0] - call < merge && X(ops[j][1]) - X(ops[j][0]) < MERGE_PX) {
            last = Math.max(last, ops[j][1]);
            j++;
          }
        }
        const x = cx(call);
        const w = Math.max(2, cx(last) - x);
        const [fill, stroke] = opColors(ops[i][2]);
        const first = i;
        const count = j - i;
        const make = () => {
          if (count === 1) return [fmtSpan(call, ret), client.name + ": " + ops[first][2]];
          const lines = [fmtSpan(call, last), client.name + ": " + count + " operations:"];
          for (let m = first; m < Math.min(first + count, first + 8); m++) lines.push("• " + fmtTime(ops[m][0]) + "  " + ops[m][2]);
          if (count > 8) lines.push("… and " + (count - 8) + " more: zoom in");
          return lines;
        };
        out.push(
          '<rect class="op" x="' + f(x) + '" y="' + (y + 3) + '" width="' + f(w) + '" height="' + (CLIENT - 6) + '" rx="2" fill="' + fill + '" stroke="' + stroke + '" stroke-width="0.8"' +
            tipOf(make) + "/>"
        );
        const label = count === 1 ? fit(ops[i][2], w - 6) : "";
        if (label) out.push('<text class="op-label" x="' + f(x + 3) + '" y="' + (y + 16) + '">' + esc(label) + "</text>");
        i = j;
      }
      out.push("</g>");
      out.push('<line class="row-line" x1="0" x2="' + width + '" y1="' + (y + CLIENT) + '" y2="' + (y + CLIENT) + '"/>');
      out.push("</g>");
    });

    // ----- phase lines across all rows -----
    out.push('<g class="phases" clip-path="url(#plot-clip)">');
    for (const [i] of phaseGroups) {
      const x = f(X(phases[i][0]));
      out.push('<line class="phase-line" x1="' + x + '" x2="' + x + '" y1="' + (testerTop + TESTER_NET) + '" y2="' + height + '"/>');
    }
    out.push("</g>");

    // ----- messages -----
    let messageNote = "";
    if (showMessages.checked && messageCount) {
      const visible = [];
      for (let m = 0; m < messageCount; m++) {
        if (messages.at[m] >= t0 && messages.sent[m] <= t1) visible.push(m);
      }
      if (visible.length > MAX_MESSAGES) {
        messageNote = "zoom in to see messages (" + visible.length + " in view)";
      } else {
        out.push('<g class="messages" clip-path="url(#plot-clip)">');
        const mid = (lane) => lanesTop + lanes[lane].top + TERM_Y + TERM_H / 2;
        for (const m of visible) {
          const reply = messages.reply[m] === 1;
          const from = messages.from[m];
          const to = messages.to[m];
          const method = data.methods[messages.method[m]];
          out.push(
            '<line class="msg ' + (reply ? "reply" : "req") + '" x1="' + f(X(messages.sent[m])) + '" y1="' + mid(from) + '" x2="' + f(X(messages.at[m])) + '" y2="' + mid(to) + '" marker-end="url(#arrow-' + (reply ? "reply" : "req") + ')"' +
              tipOf(() => [
                fmtSpan(messages.sent[m], messages.at[m]),
                (reply ? "reply to " : "") + method + ": " + lanes[from].name + " → " + lanes[to].name,
              ]) +
              "/>"
          );
        }
        out.push("</g>");
      }
    }

    // The cursor's time, drawn over everything; moved by the mouse.
    out.push('<line id="cursor" x1="-10" x2="-10" y1="' + AXIS + '" y2="' + height + '"/>');
    out.push('<rect id="cursor-bg" x="-100" y="2" width="0" height="16" rx="3"/>');
    out.push('<text id="cursor-time" x="-100" y="14" text-anchor="middle"></text>');

    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.innerHTML = out.join("");

    note.textContent = messageNote;
    const shownFrom = Math.max(t0, 0);
    const shownTo = Math.min(t1, end);
    // As many decimals as make the range's bounds differ in about four digits.
    const digits = Math.max(0, Math.min(6, Math.ceil(-Math.log10(Math.max(shownTo - shownFrom, 1) / 1e6)) + 3));
    const bound = (us) => (us / 1e6).toFixed(digits) + " s";
    rangeText.textContent = "showing " + bound(shownFrom) + " – " + bound(shownTo) + " (" + fmtDuration(shownTo - shownFrom) + " of " + fmtDuration(data.end) + ")";
  }

  // The other members of `group` in the partition that began at `from`.
  function groupMembers(from, group) {
    const names = [];
    for (const lane of lanes) {
      if (lane.cut.some((c) => c[0] === from && c[2] === group)) names.push(lane.name);
    }
    return names.join(", ");
  }

  // ----- interaction -----
  let pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  }

  function clampView(t0, t1) {
    let span = Math.max(MIN_SPAN, Math.min(t1 - t0, DOMAIN[1] - DOMAIN[0]));
    let start = Math.max(DOMAIN[0], Math.min(t0, DOMAIN[1] - span));
    view = { t0: start, t1: start + span };
  }

  function zoom(factor, around) {
    const span = view.t1 - view.t0;
    const center = around === undefined ? (view.t0 + view.t1) / 2 : around;
    const newSpan = Math.max(MIN_SPAN, span * factor);
    const ratio = (center - view.t0) / span;
    clampView(center - ratio * newSpan, center - ratio * newSpan + newSpan);
    redraw();
  }

  function fitView() {
    view = { t0: DOMAIN[0], t1: DOMAIN[1] };
    redraw();
  }

  function timeAt(clientX) {
    const rect = svg.getBoundingClientRect();
    const x = clientX - rect.left;
    return view.t0 + (x - LABEL) / geometry.scale;
  }

  document.getElementById("fit").addEventListener("click", fitView);
  document.getElementById("zoom-in").addEventListener("click", () => zoom(1 / 2));
  document.getElementById("zoom-out").addEventListener("click", () => zoom(2));
  showMessages.addEventListener("change", redraw);
  if (!messageCount) {
    showMessages.disabled = true;
    document.getElementById("messages-toggle").classList.add("disabled");
    document.getElementById("messages-toggle").title = "no messages were recorded in this run";
  }

  svg.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
      const delta = event.deltaY * lines;
      zoom(Math.exp(delta * 0.0015), timeAt(event.clientX));
    },
    { passive: false }
  );

  let drag = null;
  svg.addEventListener("mousedown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, t0: view.t0, t1: view.t1, moved: false };
    event.preventDefault();
  });
  window.addEventListener("mousemove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    if (Math.abs(dx) > 2) drag.moved = true;
    if (!drag.moved) return;
    svg.classList.add("dragging");
    tip.hidden = true;
    const dt = dx / geometry.scale;
    clampView(drag.t0 - dt, drag.t1 - dt);
    redraw();
  });
  window.addEventListener("mouseup", () => {
    drag = null;
    svg.classList.remove("dragging");
  });
  svg.addEventListener("dblclick", (event) => zoom(1 / 2, timeAt(event.clientX)));

  svg.addEventListener("mousemove", (event) => {
    const rect = svg.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const cursor = document.getElementById("cursor");
    const inPlot = x >= LABEL && x <= LABEL + geometry.plotW;
    if (cursor) {
      const label = document.getElementById("cursor-time");
      const bg = document.getElementById("cursor-bg");
      const px = inPlot ? x : -100;
      cursor.setAttribute("x1", px);
      cursor.setAttribute("x2", px);
      const text = inPlot ? fmtTime(timeAt(event.clientX)) : "";
      const half = (text.length * CHAR_PX) / 2 + 5;
      const lx = Math.max(LABEL + half, Math.min(geometry.width - half, px));
      label.textContent = text;
      label.setAttribute("x", inPlot ? lx : -100);
      bg.setAttribute("x", inPlot ? lx - half : -100);
      bg.setAttribute("width", inPlot ? 2 * half : 0);
    }
    if (drag && drag.moved) return;
    const target = event.target.closest ? event.target.closest("[data-k]") : null;
    if (!target) {
      tip.hidden = true;
      return;
    }
    const make = tips[Number(target.dataset.k)];
    if (!make) {
      tip.hidden = true;
      return;
    }
    const [when, ...lines] = make();
    tip.replaceChildren(element("div", "when", when), document.createTextNode(lines.join("\n")));
    tip.hidden = false;
    const left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 6);
    const top = event.clientY + 18 + tip.offsetHeight > window.innerHeight ? event.clientY - tip.offsetHeight - 10 : event.clientY + 18;
    tip.style.left = Math.max(0, left) + "px";
    tip.style.top = Math.max(0, top) + "px";
  });
  svg.addEventListener("mouseleave", () => {
    tip.hidden = true;
    const cursor = document.getElementById("cursor");
    if (cursor) {
      cursor.setAttribute("x1", -10);
      cursor.setAttribute("x2", -10);
      document.getElementById("cursor-time").textContent = "";
      document.getElementById("cursor-bg").setAttribute("width", 0);
    }
  });

  window.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target && (event.target.tagName === "INPUT" || event.target.tagName === "TEXTAREA") && event.target.type !== "checkbox") return;
    if (event.key === "+" || event.key === "=") zoom(1 / 2);
    else if (event.key === "-" || event.key === "_") zoom(2);
    else if (event.key === "0") fitView();
    else return;
    event.preventDefault();
  });
  window.addEventListener("resize", redraw);

  // A view can be asked for in the address: #t=2-4.5 shows 2 s to 4.5 s, and &m ticks
  // "messages" (to share a view, or to screenshot one).
  function readAddress() {
    const range = /t=([\d.]+)-([\d.]+)/.exec(location.hash);
    if (range && parseFloat(range[2]) > parseFloat(range[1])) clampView(parseFloat(range[1]) * 1e6, parseFloat(range[2]) * 1e6);
    if (/[#&]m(&|$)/.test(location.hash) && messageCount) showMessages.checked = true;
  }

  header();
  legend();
  readAddress();
  render();
  document.body.dataset.ready = "1";
})();
