// The page's script, served inline (String.raw: no interpolation, no backticks inside).
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('config').textContent);
  var token = new URLSearchParams(location.search).get('token');
  var SVG = 'http://www.w3.org/2000/svg';
  var SAMPLES = 60;
  var rows = new Map();
  var nodes = new Map();
  var busy = false;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The topology: applications as boxes in columns by depth, pipes as arrows (dashed when back).
  function drawTopology(shape) {
    var root = document.getElementById('topology');
    var w = shape.box.width, h = shape.box.height;
    root.setAttribute('width', shape.width);
    root.setAttribute('height', shape.height);
    root.setAttribute('viewBox', '0 0 ' + shape.width + ' ' + shape.height);
    var defs = svg('defs');
    var marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    var at = new Map(shape.nodes.map(function (node) { return [node.name, node]; }));
    shape.edges.forEach(function (edge) {
      var a = at.get(edge.from), b = at.get(edge.to), d;
      if (edge.back) {
        var bottom = shape.height - 6, ax = a.x + w / 2, bx = b.x + w / 2 + 12;
        d = 'M' + ax + ',' + (a.y + h) + ' C' + ax + ',' + bottom + ' ' + bx + ',' + bottom + ' ' + bx + ',' + (b.y + h);
      } else {
        var x1 = a.x + w, y1 = a.y + h / 2, x2 = b.x, y2 = b.y + h / 2, mid = (x1 + x2) / 2;
        d = 'M' + x1 + ',' + y1 + ' C' + mid + ',' + y1 + ' ' + mid + ',' + y2 + ' ' + x2 + ',' + y2;
      }
      var path = svg('path', { 'class': 'pipe' + (edge.back ? ' back' : ''), d: d, 'marker-end': 'url(#arrow)', 'data-from': edge.from, 'data-to': edge.to });
      path.appendChild(svg('title', {}, edge.to + ' follows ' + edge.from));
      root.appendChild(path);
    });
    shape.nodes.forEach(function (node) {
      var group = svg('g', { 'class': 'node' + (node.follows ? '' : ' leader'), 'data-app': node.name, transform: 'translate(' + node.x + ',' + node.y + ')' });
      group.appendChild(svg('rect', { width: w, height: h, rx: 6 }));
      group.appendChild(svg('text', { 'class': 'name', x: 10, y: 19 }, node.name));
      var detail = svg('text', { 'class': 'detail', x: 10, y: 37 }, node.follows ? '' : 'leads');
      group.appendChild(detail);
      root.appendChild(group);
      nodes.set(node.name, { group: group, detail: detail, follows: node.follows });
    });
  }

  var RANK = { failed: 5, 'backing-off': 4, running: 3, stopping: 2, idle: 1, stopped: 0 };
  function updateTopology(processes) {
    var byApp = new Map();
    processes.forEach(function (p) {
      var seen = byApp.get(p.applicationName) || { state: 'stopped', lag: 0, unknown: false };
      if ((RANK[p.state] || 0) >= (RANK[seen.state] || 0)) seen.state = p.state;
      if (p.lag === null) seen.unknown = true; else seen.lag += p.lag;
      byApp.set(p.applicationName, seen);
    });
    nodes.forEach(function (node, name) {
      if (!node.follows) return;
      var seen = byApp.get(name);
      node.group.setAttribute('class', 'node' + (seen ? ' state-' + seen.state : ''));
      node.detail.textContent = seen ? seen.state + ' · lag ' + (seen.unknown ? '?' : seen.lag) : 'not run here';
    });
  }

  function attention(p) {
    return p.state === 'failed' || p.state === 'backing-off' || (p.lastError !== undefined && p.lag !== 0);
  }
  function upstreamText(p, field) {
    if (p.upstreams.length === 1) return show(p.upstreams[0][field]);
    return p.upstreams.map(function (u) { return u.upstreamName + ': ' + show(u[field]); }).join('\n');
  }
  function show(value) { return value === null || value === undefined ? '?' : String(value); }

  function makeRow(p) {
    var tr = el('tr', { 'data-process': p.applicationName + ':' + p.pipelineId });
    var cells = {};
    ['application', 'pipeline', 'kind', 'state', 'position', 'head', 'lag', 'restarts', 'throughput', 'error', 'actions'].forEach(function (name) {
      var numeric = ['pipeline', 'position', 'head', 'lag', 'restarts'].indexOf(name) >= 0;
      cells[name] = tr.appendChild(el('td', { 'class': 'c-' + name + (numeric ? ' number' : '') }));
    });
    cells.application.textContent = p.applicationName;
    cells.pipeline.textContent = String(p.pipelineId);
    var spark = svg('svg', { 'class': 'spark', width: 120, height: 22, viewBox: '0 0 120 22' });
    var line = spark.appendChild(svg('polyline', { points: '' }));
    var rate = el('span', { 'class': 'rate' });
    cells.throughput.appendChild(spark);
    cells.throughput.appendChild(rate);
    var restart = el('button', { 'class': 'restart', type: 'button' }, 'restart');
    var skip = el('button', { 'class': 'skip', type: 'button' }, 'skip');
    cells.actions.appendChild(restart);
    cells.actions.appendChild(skip);
    var row = { tr: tr, cells: cells, line: line, rate: rate, restart: restart, skip: skip, samples: [], rates: [], data: p };
    restart.addEventListener('click', function () { restartProcess(row.data); });
    skip.addEventListener('click', function () { skipNotification(row.data); });
    if (config.readOnly) {
      restart.disabled = skip.disabled = true;
      restart.title = skip.title = 'this console is read-only';
    }
    return row;
  }

  function updateRow(row, p, at) {
    row.data = p;
    row.cells.kind.textContent = p.kind;
    row.cells.state.textContent = p.state + (p.pending ? ' (pending)' : '');
    row.cells.state.className = 'c-state state state-' + p.state;
    row.cells.position.textContent = upstreamText(p, 'position');
    row.cells.head.textContent = upstreamText(p, 'head');
    row.cells.lag.textContent = show(p.lag);
    row.cells.restarts.textContent = String(p.restarts);
    var error = p.lastError;
    row.cells.error.textContent = error ? error.message : '';
    row.cells.error.title = error ? new Date(error.at).toLocaleString() : '';
    var needs = attention(p);
    row.tr.className = needs ? 'attention' : '';
    row.restart.hidden = !needs;
    row.skip.hidden = !(needs && error && error.notificationId !== undefined && error.upstreamName !== undefined);
    if (!row.skip.hidden) row.skip.title = 'skip notification ' + error.notificationId + ' of ' + error.upstreamName;
    // Throughput: notifications processed per second, from the positions' deltas.
    var position = p.upstreams.reduce(function (sum, u) { return sum + (u.position || 0); }, 0);
    var last = row.samples[row.samples.length - 1];
    row.samples.push({ at: at, position: position });
    if (row.samples.length > 2) row.samples.shift();
    if (last && at > last.at) {
      row.rates.push(Math.max(0, (position - last.position) / ((at - last.at) / 1000)));
      if (row.rates.length > SAMPLES) row.rates.shift();
    }
    var top = Math.max(1, Math.max.apply(null, row.rates.concat([0])));
    row.line.setAttribute('points', row.rates.map(function (r, i) {
      return (120 - (row.rates.length - 1 - i) * 2).toFixed(1) + ',' + (21 - (r / top) * 19).toFixed(1);
    }).join(' '));
    var now = row.rates[row.rates.length - 1];
    row.rate.textContent = now === undefined ? '' : now.toFixed(now < 10 ? 1 : 0) + '/s';
  }

  function render(snapshot) {
    var body = document.querySelector('#processes tbody');
    var seen = new Set();
    snapshot.processes.forEach(function (p) {
      var key = p.applicationName + ':' + p.pipelineId;
      seen.add(key);
      var row = rows.get(key);
      if (!row) {
        row = makeRow(p);
        rows.set(key, row);
        body.appendChild(row.tr);
      }
      updateRow(row, p, snapshot.at);
    });
    rows.forEach(function (row, key) {
      if (!seen.has(key)) { row.tr.remove(); rows.delete(key); }
    });
    updateTopology(snapshot.processes);
    var lag = snapshot.processes.reduce(function (sum, p) { return sum + (p.lag || 0); }, 0);
    var failed = snapshot.processes.filter(function (p) { return p.state === 'failed'; }).length;
    document.getElementById('summary').textContent = snapshot.processes.length + ' processes · lag ' + lag +
      (failed ? ' · ' + failed + ' failed' : '') + ' · ' + new Date(snapshot.at).toLocaleTimeString();
  }

  function say(text, isError) {
    var message = document.getElementById('message');
    message.textContent = text;
    message.className = isError ? 'error' : '';
  }

  function describe(p) { return p.applicationName + ' (pipeline ' + p.pipelineId + ')'; }

  function post(path, body) {
    if (busy) return Promise.resolve(undefined);
    busy = true;
    var headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch(path, { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok) throw new Error(answer.error || response.status + ' ' + response.statusText);
          return answer;
        });
      })
      .finally(function () { busy = false; });
  }

  function restartProcess(p) {
    if (!window.confirm('Restart ' + describe(p) + '? It runs again from its tracking positions.')) return;
    post('api/restart', { applicationName: p.applicationName, pipelineId: p.pipelineId })
      .then(function (answer) { if (answer) say('Restarted ' + describe(p) + '.'); })
      .catch(function (error) { say('Restart refused: ' + error.message, true); });
  }

  function skipNotification(p) {
    var error = p.lastError;
    var what = 'notification ' + error.notificationId + ' of ' + error.upstreamName;
    if (!window.confirm('Skip ' + what + ' for ' + describe(p) + '? It will never be processed.\n\n' + error.message)) return;
    var reason = window.prompt('Why skip ' + what + '? (recorded with the SkippedNotification)', '');
    if (reason === null) return;
    if (reason.trim() === '') { say('Not skipped: a skip needs a reason.', true); return; }
    post('api/skip', { applicationName: p.applicationName, pipelineId: p.pipelineId, upstreamName: error.upstreamName, notificationId: error.notificationId, reason: reason })
      .then(function (answer) { if (answer) say('Skipped ' + what + ' for ' + describe(p) + '.'); })
      .catch(function (failure) { say('Skip refused: ' + failure.message, true); });
  }

  function connection(state, text) {
    var node = document.getElementById('connection');
    node.className = 'connection ' + state;
    node.textContent = text;
  }

  drawTopology(config.topology);
  if (config.readOnly) say('Read-only console: restart and skip are off.');
  else if (!token) say('No token in this page\'s address (?token=...): restart and skip will be refused.', true);
  var source = new EventSource('events');
  source.addEventListener('status', function (event) {
    connection('live', 'live');
    render(JSON.parse(event.data));
  });
  source.addEventListener('status-error', function (event) {
    connection('down', 'status unreadable: ' + JSON.parse(event.data).error);
  });
  source.addEventListener('error', function () { connection('down', 'disconnected: reconnecting…'); });
})();
`;
