"use strict";
(function () {
  // Horizontal layout: every distinct time gets MIN_GAP pixels, plus a share of
  // LINEAR_WIDTH proportional to the time elapsed since the previous one. The gap is wide
  // enough for a box's first characters, so labels stay readable in dense histories.
  const MIN_GAP = 28;
  const LINEAR_WIDTH = 2400;
  const MIN_BOX = 10;
  // How many characters of context the Rust side keeps before a departure (see
  // html.rs: departure), to find the first differing character in a window.
  const BEFORE = 24;

  const data = JSON.parse(document.getElementById("history-data").textContent);
  const partitionList = document.getElementById("partitions");
  const linearizationList = document.getElementById("linearizations");
  const summary = document.getElementById("summary");
  const explain = document.getElementById("explain");
  const timeline = document.getElementById("timeline");
  const tooltip = document.getElementById("tooltip");
  let shown = null;

  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function time(t) {
    if (t < 0) return "never (outcome unknown)";
    return data.timeOrigin === "0" ? String(t) : data.timeOrigin + " + " + t;
  }

  function describe(op) {
    return data.ops[op][3];
  }

  // Operations that never returned (ret -1) end after every other time.
  function positions(ops) {
    const times = [];
    for (const op of ops) {
      times.push(data.ops[op][1]);
      if (data.ops[op][2] >= 0) times.push(data.ops[op][2]);
    }
    times.sort((a, b) => a - b);
    const at = new Map();
    let x = 0;
    const span = times.length ? times[times.length - 1] - times[0] : 0;
    const perUnit = span > 0 ? LINEAR_WIDTH / span : 0;
    for (let k = 0; k < times.length; k++) {
      if (k > 0 && times[k] === times[k - 1]) continue;
      if (k > 0) x += MIN_GAP + (times[k] - times[k - 1]) * perUnit;
      at.set(times[k], x);
    }
    const end = x + 8 * MIN_GAP;
    at.set(-1, end);
    return { at: at, width: end + MIN_BOX + 20 };
  }

  // A code element showing `text`, with the first character past `common` shared ones
  // (counted from the start of the full value the window comes from) highlighted.
  function windowCode(text, common) {
    const code = element("code");
    const chars = Array.from(text);
    let at = common > BEFORE ? BEFORE + 1 : common;
    if (at > chars.length) at = chars.length;
    code.appendChild(document.createTextNode(chars.slice(0, at).join("")));
    const off = element("span", "off", chars.slice(at, at + 1).join("") || "\u2205");
    code.appendChild(off);
    code.appendChild(document.createTextNode(chars.slice(at + 1).join("")));
    return code;
  }

  function row(label, ...content) {
    const r = element("div", "row");
    r.appendChild(element("span", "label", label));
    for (const c of content) r.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    return r;
  }

  // The panel under the summary: what the red box is, the state it met, where its result
  // departs from that state (and from the nearest state reached anywhere), and the last
  // steps that led there. Printed, so that nothing needs hovering.
  function showExplanation(part, lin) {
    explain.replaceChildren();
    if (!lin || lin.blocked < 0) return;
    const code = (text) => element("code", null, text);
    explain.appendChild(row("Cannot be placed:", code(describe(lin.blocked)), " (client " + data.ops[lin.blocked][0] + ")"));
    explain.appendChild(row("It met the state:", code(lin.met), lin.order.length ? " (after step " + lin.order.length + ")" : " (the initial state)"));
    const m = lin.mismatch;
    if (m) {
      explain.appendChild(row("Its result:", windowCode(m.returned, m.common)));
      explain.appendChild(row("The state met:", windowCode(m.met, m.common)));
      explain.appendChild(row("", "They agree on the first " + m.common + " characters; the first difference is highlighted."));
      if (m.nearest) {
        const where = m.nearest.after < 0 ? "the initial state" : "the state after " + describe(m.nearest.after);
        explain.appendChild(row("Nearest state reached:", where + ", sharing " + m.nearest.common + " characters:"));
        explain.appendChild(row("", windowCode(m.nearest.state, m.nearest.common)));
      }
    }
    if (lin.order.length) {
      const list = element("ol");
      const first = Math.max(0, lin.order.length - 5);
      list.start = first + 1;
      for (let k = first; k < lin.order.length; k++) {
        list.appendChild(element("li", null, describe(lin.order[k]) + "  \u2192  " + part.states[lin.states[k]]));
      }
      explain.appendChild(row(first > 0 ? "The last steps before:" : "The steps before:"));
      explain.appendChild(list);
    }
  }

  function showPartition(index, linIndex) {
    const part = data.partitions[index];
    shown = { part: part, index: index, lin: linIndex };
    partitionList.querySelectorAll("button").forEach((b, k) => b.classList.toggle("selected", k === index));

    linearizationList.replaceChildren();
    part.lins.forEach((lin, k) => {
      let label = (k === 0 ? "longest: " : "#" + (k + 1) + ": ") + lin.order.length + " of " + part.ops.length + " ops";
      if (lin.blocked >= 0) label += ", stuck at " + describe(lin.blocked);
      const b = element("button", "lin" + (k === linIndex ? " selected" : ""), label);
      b.title = label;
      b.addEventListener("click", () => showPartition(index, k));
      linearizationList.appendChild(b);
    });

    const lin = part.lins[linIndex];
    shown.rank = new Map();
    shown.state = new Map();
    if (lin) {
      lin.order.forEach((op, k) => {
        shown.rank.set(op, k + 1);
        shown.state.set(op, part.states[lin.states[k]]);
      });
    }
    shown.blocked = lin ? lin.blocked : -1;
    shown.local = new Map(part.ops.map((op, k) => [op, k]));

    let text = part.name + ": " + part.verdict + ", " + part.ops.length + " operations, " + part.steps + " search steps. ";
    if (!part.searched) text += "Not searched to the end: another partition was found illegal first, which settles the verdict.";
    else if (!lin) text += "The search kept no linearization of this partition.";
    else if (lin.order.length === part.ops.length) text += "All operations linearized, in the numbered order.";
    else text += "Showing a partial linearization of " + lin.order.length + " operations.";
    summary.textContent = text;
    showExplanation(part, lin);

    drawTimeline(part);
  }

  function drawTimeline(part) {
    const layout = positions(part.ops);
    const clients = [...new Set(part.ops.map((op) => data.ops[op][0]))].sort((a, b) => a - b);
    const tracks = new Map();
    const lanes = document.createDocumentFragment();
    for (const client of clients) {
      const lane = element("div", "lane");
      lane.appendChild(element("div", "lane-label", "client " + client));
      const track = element("div", "track");
      track.style.width = layout.width + "px";
      lane.appendChild(track);
      lanes.appendChild(lane);
      tracks.set(client, track);
    }
    let blockedBox = null;
    for (const op of part.ops) {
      const [client, call, ret] = data.ops[op];
      const left = layout.at.get(call);
      const width = Math.max(layout.at.get(ret) - left, MIN_BOX);
      let className = "op";
      if (ret < 0) className += " open";
      if (shown.rank.has(op)) className += " linearized";
      if (op === shown.blocked) className += " illegal";
      const box = element("div", className);
      box.dataset.op = op;
      box.style.left = left + "px";
      box.style.width = width + "px";
      if (shown.rank.has(op)) box.appendChild(element("span", "order", String(shown.rank.get(op))));
      box.appendChild(element("span", "text", describe(op)));
      tracks.get(client).appendChild(box);
      if (op === shown.blocked) blockedBox = box;
    }
    timeline.replaceChildren(lanes);
    timeline.scrollLeft = 0;
    if (blockedBox) {
      // Open on the operation that cannot be placed, with the numbered steps before it
      // to its left.
      blockedBox.scrollIntoView({ block: "nearest", inline: "center" });
    }
    document.body.dataset.blockedInView = blockedBox && inView(blockedBox) ? "1" : "0";
  }

  // Whether some of `box` shows in the timeline's visible area and in the window.
  function inView(box) {
    const r = box.getBoundingClientRect();
    const t = timeline.getBoundingClientRect();
    const labels = 80;
    return r.right > t.left + labels && r.left < t.right && r.bottom > t.top && r.top < t.bottom && r.top < window.innerHeight && r.bottom > 0;
  }

  function tooltipText(op) {
    const [client, call, ret] = data.ops[op];
    const lines = [describe(op), "client " + client + ", call " + time(call) + ", return " + time(ret)];
    if (shown.rank.has(op)) {
      lines.push("linearized #" + shown.rank.get(op) + "; state after: " + shown.state.get(op));
    } else if (op === shown.blocked) {
      lines.push("could not be placed: its response came before any legal order of the operations numbered so far could include it");
    } else {
      lines.push("not in this partial linearization");
    }
    return lines.join("\n");
  }

  timeline.addEventListener("mousemove", (event) => {
    const box = event.target.closest(".op");
    if (!box || !shown) {
      tooltip.hidden = true;
      return;
    }
    tooltip.textContent = tooltipText(Number(box.dataset.op));
    tooltip.hidden = false;
    const x = Math.min(event.clientX + 12, window.innerWidth - tooltip.offsetWidth - 4);
    tooltip.style.left = Math.max(0, x) + "px";
    tooltip.style.top = event.clientY + 16 + "px";
  });
  timeline.addEventListener("mouseleave", () => {
    tooltip.hidden = true;
  });
  timeline.addEventListener("click", (event) => {
    const box = event.target.closest(".op");
    if (!box || !shown) return;
    const best = shown.part.longestFor[shown.local.get(Number(box.dataset.op))];
    if (best >= 0 && best !== shown.lin) showPartition(shown.index, best);
  });

  data.partitions.forEach((part, index) => {
    let label = part.name + " (" + part.ops.length + " ops";
    if (!part.searched) label += ", search stopped";
    else if (part.verdict !== "Ok") label += ", " + part.verdict;
    const button = element("button", "partition " + part.verdict.toLowerCase(), label + ")");
    button.addEventListener("click", () => showPartition(index, 0));
    partitionList.appendChild(button);
  });

  const firstIllegal = data.partitions.findIndex((part) => part.verdict === "Illegal");
  if (data.partitions.length > 0) showPartition(Math.max(firstIllegal, 0), 0);
  else summary.textContent = "The history is empty.";
  // Read by tests in a browser (.ci/check_page.py): the page is drawn.
  document.body.dataset.ready = "1";
})();
