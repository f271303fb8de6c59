// gridsim's map page: roads coloured by their cell's metric, hover for a cell's numbers,
// a time slider that replays the run. Reads the JSON in #gridsim-data (written by
// gridsim/report/map_page.py); needs nothing from the network.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("gridsim-data").textContent);

  function decode(text, Type) {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return new Type(bytes.buffer);
  }

  const roads = decode(data.roads, Uint16Array);
  const roadCell = decode(data.road_cell, Int32Array);
  const cellX = decode(data.cell_x, Float32Array);
  const cellY = decode(data.cell_y, Float32Array);
  const cellPop = decode(data.cell_population, Float32Array);
  const cellDistrict = decode(data.cell_district, Int16Array);
  const incT = decode(data.incident_t_s, Float32Array);
  const incCell = decode(data.incident_cell, Int32Array);
  const incX = decode(data.incident_x, Uint16Array);
  const incY = decode(data.incident_y, Uint16Array);
  const arrival = {};
  for (const g of data.groups) arrival[g] = decode(data["arrival_" + g], Float32Array);
  const dInc = decode(data.dispatch_incident, Int32Array);
  const dKind = decode(data.dispatch_kind, Int8Array);
  const dT = decode(data.dispatch_t_s, Float32Array);
  const dArrive = decode(data.arrive_t_s, Float32Array);
  const dFree = decode(data.free_t_s, Float32Array);
  const oX = decode(data.origin_x, Uint16Array);
  const oY = decode(data.origin_y, Uint16Array);
  const cellCount = cellX.length;
  const incCount = incT.length;

  // an incident is on the map from its call until its last responder is free
  const incEnd = new Float32Array(incCount);
  for (let i = 0; i < incCount; i++) incEnd[i] = incT[i] + 600;
  for (let k = 0; k < dInc.length; k++) {
    const end = Math.max(dFree[k], dArrive[k], dT[k]);
    if (end > incEnd[dInc[k]]) incEnd[dInc[k]] = end;
  }

  const canvas = document.getElementById("map");
  const ctx = canvas.getContext("2d");
  const layer = document.createElement("canvas");
  layer.width = canvas.width;
  layer.height = canvas.height;
  const tip = document.getElementById("tip");
  const controls = {
    metric: document.getElementById("metric"),
    group: document.getElementById("group"),
    hour: document.getElementById("hour"),
    time: document.getElementById("time"),
    clock: document.getElementById("clock"),
    play: document.getElementById("play"),
  };

  // the view: quantised city coordinates to canvas pixels, north up
  let maxX = 1, maxY = 1;
  for (let k = 0; k < roads.length; k += 2) {
    if (roads[k] > maxX) maxX = roads[k];
    if (roads[k + 1] > maxY) maxY = roads[k + 1];
  }
  const margin = 10;
  const scale = Math.min((canvas.width - 2 * margin) / maxX,
                         (canvas.height - 2 * margin) / maxY);
  const offsetX = (canvas.width - maxX * scale) / 2, offsetY = (canvas.height - maxY * scale) / 2;
  const px = (x) => offsetX + x * scale;
  const py = (y) => canvas.height - offsetY - y * scale;
  const kmPerUnit = data.span_km / 65535;

  const metrics = [
    ["p90", "p90 of arrival (min)"], ["p50", "p50 of arrival (min)"],
    ...data.rings_s.map((r) => ["within_" + r, "share reached within " + r / 60 + " min"]),
    ["incidents", "incidents"], ["population", "residents"],
  ];
  for (const [value, label] of metrics) controls.metric.add(new Option(label, value));
  for (const g of data.groups) controls.group.add(new Option(g.replace("_", " "), g));
  for (let h = 0; h < 24; h++) controls.hour.add(new Option(String(h).padStart(2, "0"), h));

  const state = { cells: null, value: null, low: 0, high: 1 };

  function quantile(sorted, q) {
    const pos = (sorted.length - 1) * q, lo = Math.floor(pos);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  // each cell's numbers for the chosen responder group and hour of the call
  function cellNumbers() {
    const group = controls.group.value, hour = controls.hour.value;
    const a = arrival[group];
    const lists = Array.from({ length: cellCount }, () => []);
    const count = new Int32Array(cellCount);
    const within = data.rings_s.map(() => new Int32Array(cellCount));
    for (let i = 0; i < incCount; i++) {
      if (hour !== "all" && Math.floor(incT[i] / 3600) % 24 !== Number(hour)) continue;
      const c = incCell[i];
      count[c]++;
      if (!Number.isNaN(a[i])) {
        lists[c].push(a[i]);
        data.rings_s.forEach((r, k) => { if (a[i] <= r) within[k][c]++; });
      }
    }
    return { lists, count, within };
  }

  function metricValues(cells) {
    const metric = controls.metric.value;
    const value = new Float64Array(cellCount).fill(NaN);
    for (let c = 0; c < cellCount; c++) {
      const list = cells.lists[c];
      if (metric === "population") value[c] = cellPop[c];
      else if (metric === "incidents") value[c] = cells.count[c] || NaN;
      else if (metric === "p90" || metric === "p50") {
        if (list.length >= data.min_incidents) {
          list.sort((x, y) => x - y);
          value[c] = quantile(list, metric === "p90" ? 0.9 : 0.5) / 60;
        }
      } else if (cells.count[c] > 0) {
        const k = data.rings_s.indexOf(Number(metric.slice(7)));
        value[c] = cells.within[k][c] / cells.count[c];
      }
    }
    return value;
  }

  function colour(t) {
    const stops = data.colours, x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
    const k = Math.min(Math.floor(x), stops.length - 2), f = x - k;
    const a = parseInt(stops[k].slice(1), 16), b = parseInt(stops[k + 1].slice(1), 16);
    const mix = (s) => Math.round(((a >> s) & 255) * (1 - f) + ((b >> s) & 255) * f);
    return `rgb(${mix(16)},${mix(8)},${mix(0)})`;
  }

  // the roads, coloured by their cell's value, drawn once per change of the controls
  function drawRoads() {
    state.cells = cellNumbers();
    state.value = metricValues(state.cells);
    const finite = Array.from(state.value).filter((v) => Number.isFinite(v));
    const metric = controls.metric.value;
    state.low = metric.startsWith("within_") ? 0 : Math.min(...finite, Infinity);
    state.high = metric.startsWith("within_") ? 1 : Math.max(...finite, -Infinity);
    if (!(state.high > state.low)) { state.low = 0; state.high = Math.max(state.high, 1); }
    const bins = 32, paths = Array.from({ length: bins + 1 }, () => new Path2D());
    const lctx = layer.getContext("2d");
    lctx.clearRect(0, 0, layer.width, layer.height);
    let drawn = 0;
    for (let s = 0; s < roadCell.length; s++) {
      const v = state.value[roadCell[s]];
      const bin = Number.isFinite(v)
        ? Math.min(bins - 1, Math.floor((v - state.low) / (state.high - state.low) * bins))
        : bins;
      const k = 4 * s;
      paths[bin].moveTo(px(roads[k]), py(roads[k + 1]));
      paths[bin].lineTo(px(roads[k + 2]), py(roads[k + 3]));
      drawn++;
    }
    lctx.lineWidth = 0.6;
    lctx.strokeStyle = "#cccccc";
    lctx.stroke(paths[bins]);
    for (let b = 0; b < bins; b++) {
      const t = (b + 0.5) / bins;
      lctx.strokeStyle = colour(metric === "p90" || metric === "p50" ? 1 - t : t);
      lctx.stroke(paths[b]);
    }
    window.gridsimMap.drawnSegments = drawn;
    drawLegend();
    drawFrame();
  }

  function drawLegend() {
    const metric = controls.metric.value;
    const reversed = metric === "p90" || metric === "p50";  // yellow is always better
    const stops = reversed ? [...data.colours].reverse() : data.colours;
    const label = metrics.find((m) => m[0] === metric)[1];
    const fmt = (v) => metric.startsWith("within_") ? Math.round(v * 100) + "%"
      : v >= 100 ? Math.round(v).toLocaleString() : v.toFixed(1);
    document.getElementById("legend").innerHTML =
      `<span>${fmt(state.low)}</span><div class='bar' style='background:linear-gradient(` +
      `to right, ${stops.join(",")})'></div><span>${fmt(state.high)}</span>` +
      `<span>${label}; grey: no value (no incident, or fewer than ${data.min_incidents}` +
      ` for a percentile)</span>`;
  }

  const kindColour = (code) => data.police_kinds.includes(code) ? "#1f5fbf"
    : ({ grid_worker: "#e07b00", volunteer: "#2a9d3a", watch_point: "#8a3ab9" }[
      data.kinds[code]] || "#555555");

  // the replay at the slider's time: incidents, responders en route and on scene
  function drawFrame() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(layer, 0, 0);
    const t = Number(controls.time.value) / 1000 * data.duration_s;
    let incidents = 0, responders = 0;
    if (Number(controls.time.value) > 0) {
      ctx.fillStyle = "rgba(220,30,30,0.85)";
      for (let i = 0; i < incCount; i++) {
        if (incT[i] > t || incEnd[i] < t) continue;
        ctx.beginPath();
        ctx.arc(px(incX[i]), py(incY[i]), 3, 0, 2 * Math.PI);
        ctx.fill();
        incidents++;
      }
      for (let k = 0; k < dInc.length; k++) {
        if (dT[k] > t || dArrive[k] < 0 || Math.max(dFree[k], dArrive[k]) < t) continue;
        const i = dInc[k];
        const f = t >= dArrive[k] ? 1 : (t - dT[k]) / Math.max(dArrive[k] - dT[k], 1e-6);
        const x = oX[k] + (incX[i] - oX[k]) * f, y = oY[k] + (incY[i] - oY[k]) * f;
        ctx.fillStyle = kindColour(dKind[k]);
        ctx.fillRect(px(x) - 2, py(y) - 2, 4, 4);
        responders++;
      }
    }
    const h = Math.floor(t / 3600), m = Math.floor(t % 3600 / 60);
    controls.clock.textContent = Number(controls.time.value) > 0
      ? `day ${Math.floor(h / 24) + 1}, ${String(h % 24).padStart(2, "0")}:` +
        `${String(m).padStart(2, "0")}: ${incidents} incidents, ${responders} responders`
      : "replay off (move the slider)";
    window.gridsimMap.drawnIncidents = incidents;
    window.gridsimMap.drawnResponders = responders;
  }

  function nearestCell(mx, my) {
    const x = (mx - offsetX) / scale, y = (canvas.height - offsetY - my) / scale;
    let best = -1, bestD = Infinity;
    for (let c = 0; c < cellCount; c++) {
      const d = (cellX[c] - x) ** 2 + (cellY[c] - y) ** 2;
      if (d < bestD) { bestD = d; best = c; }
    }
    return Math.sqrt(bestD) * kmPerUnit < 5 ? best : -1;
  }

  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const c = nearestCell(event.clientX - box.left, event.clientY - box.top);
    if (c < 0) { tip.style.display = "none"; return; }
    const list = [...state.cells.lists[c]].sort((a, b) => a - b);
    const enough = list.length >= data.min_incidents;
    const lines = [
      `${data.cells_kind.slice(0, -1)} ${c} (${data.districts[cellDistrict[c]]})`,
      `residents ${Math.round(cellPop[c]).toLocaleString()}`,
      `incidents ${state.cells.count[c]} (reached by ${controls.group.value}: ${list.length})`,
      `p50 ${enough ? (quantile(list, 0.5) / 60).toFixed(1) + " min" : "-"}, ` +
      `p90 ${enough ? (quantile(list, 0.9) / 60).toFixed(1) + " min" : "-"}`,
      ...data.rings_s.map((r, k) => `within ${r / 60} min: ` + (state.cells.count[c]
        ? Math.round(100 * state.cells.within[k][c] / state.cells.count[c]) + "%" : "-")),
    ];
    tip.textContent = lines.join("\n");
    tip.style.left = (event.clientX - box.left + 14) + "px";
    tip.style.top = (event.clientY - box.top + 14) + "px";
    tip.style.display = "block";
    window.gridsimMap.hoveredCell = c;
  });
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });

  let playing = false;
  function step() {
    if (!playing) return;
    const next = Number(controls.time.value) + 1;
    controls.time.value = String(Math.min(next, 1000));
    drawFrame();
    if (next >= 1000) { playing = false; controls.play.textContent = "play"; return; }
    requestAnimationFrame(step);
  }
  controls.play.addEventListener("click", () => {
    playing = !playing;
    controls.play.textContent = playing ? "pause" : "play";
    if (playing) requestAnimationFrame(step);
  });
  for (const name of ["metric", "group", "hour"]) {
    controls[name].addEventListener("change", drawRoads);
  }
  controls.time.addEventListener("input", drawFrame);

  window.gridsimMap = { drawnSegments: 0, drawnIncidents: 0, drawnResponders: 0,
                        hoveredCell: -1, cellPixel: (c) => [px(cellX[c]), py(cellY[c])] };
  document.getElementById("note").textContent =
    `${data.scenario}: ${incCount.toLocaleString()} incidents` +
    (data.incidents_every > 1 ? ` (every ${data.incidents_every}th of the run)` : "") +
    `, ${cellCount.toLocaleString()} ${data.cells_kind}. Roads are coloured by their ` +
    `cell; hover for a cell's numbers. The replay draws each incident from its call until ` +
    `its last responder is free, and each responder (square; blue police, orange grid ` +
    `worker, green volunteer, purple watch point) moving in a straight line from its ` +
    `base (station, home, post) to the incident, then on scene.`;
  drawRoads();
  window.gridsimMap.ready = true;
})();
