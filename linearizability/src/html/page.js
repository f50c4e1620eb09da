"use strict";
(function () {
  // Horizontal layout: every distinct time gets MIN_GAP pixels, plus a share of
  // LINEAR_WIDTH proportional to the time elapsed since the previous one.
  const MIN_GAP = 10;
  const LINEAR_WIDTH = 2400;
  const MIN_BOX = 6;

  const data = JSON.parse(document.getElementById("history-data").textContent);
  const partitionList = document.getElementById("partitions");
  const linearizationList = document.getElementById("linearizations");
  const summary = document.getElementById("summary");
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
    return data.timeOrigin === "0" ? String(t) : data.timeOrigin + " + " + t;
  }

  function describe(op) {
    return data.ops[op][3];
  }

  function positions(ops) {
    const times = [];
    for (const op of ops) times.push(data.ops[op][1], data.ops[op][2]);
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
    return { at: at, width: x + MIN_BOX + 20 };
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

    let text = part.name + ": " + part.verdict + ", " + part.ops.length + " operations. ";
    if (!lin) text += "The search did not reach this partition.";
    else if (lin.order.length === part.ops.length) text += "All operations linearized, in the numbered order.";
    else text += "Showing a partial linearization of " + lin.order.length + " operations.";
    if (shown.blocked >= 0) text += " Could not place: " + describe(shown.blocked);
    summary.textContent = text;

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
    for (const op of part.ops) {
      const [client, call, ret] = data.ops[op];
      const left = layout.at.get(call);
      const width = Math.max(layout.at.get(ret) - left, MIN_BOX);
      let className = "op";
      if (shown.rank.has(op)) className += " linearized";
      if (op === shown.blocked) className += " illegal";
      const box = element("div", className);
      box.dataset.op = op;
      box.style.left = left + "px";
      box.style.width = width + "px";
      if (shown.rank.has(op)) box.appendChild(element("span", "order", String(shown.rank.get(op))));
      box.appendChild(document.createTextNode(describe(op)));
      tracks.get(client).appendChild(box);
    }
    timeline.replaceChildren(lanes);
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
    const label = part.name + " (" + part.ops.length + " ops" + (part.verdict === "Ok" ? "" : ", " + part.verdict) + ")";
    const button = element("button", "partition " + part.verdict.toLowerCase(), label);
    button.addEventListener("click", () => showPartition(index, 0));
    partitionList.appendChild(button);
  });

  const firstIllegal = data.partitions.findIndex((part) => part.verdict === "Illegal");
  if (data.partitions.length > 0) showPartition(Math.max(firstIllegal, 0), 0);
  else summary.textContent = "The history is empty.";
})();
