import { PAGE_SCRIPT } from './page-script';
import type { Topology } from './topology';

export interface PageSettings {
  /** The Content-Security-Policy nonce of this response (its one script and one style). */
  readonly nonce: string;
  readonly topology: Topology;
  /** Whether actions are refused (the console was started with token: false). */
  readonly readOnly: boolean;
}

/** The console's one page: everything inline (no external assets), filled in by its script from /events. */
export function consolePage(settings: PageSettings): string {
  const config = JSON.stringify({ topology: settings.topology, readOnly: settings.readOnly }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>eventsourcing-nact console</title>
<style nonce="${settings.nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>eventsourcing-nact console</h1>
  <span id="connection" class="connection">connecting…</span>
  <span id="summary"></span>
</header>
<main>
  <section>
    <h2>Topology</h2>
    <svg id="topology" role="img" aria-label="the system's applications and pipes"></svg>
  </section>
  <section>
    <h2>Processes</h2>
    <p id="message" role="status"></p>
    <table id="processes">
      <thead><tr>
        <th>application</th><th>pipeline</th><th>kind</th><th>state</th><th>position</th><th>head</th>
        <th>lag</th><th>restarts</th><th>throughput</th><th>last error</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script type="application/json" id="config">${config}</script>
<script nonce="${settings.nonce}">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1d232b; --muted: #65707d; --line: #d5dbe1; --bg: #f6f8fa; --card: #fff;
  --idle: #2f855a; --running: #2b6cb0; --backing-off: #c05621; --failed: #c53030; --stopped: #718096; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 16px; align-items: baseline; padding: 12px 20px; background: #1d232b; color: #fff; }
header h1 { font-size: 17px; margin: 0; }
.connection { padding: 1px 8px; border-radius: 9px; background: #4a5568; font-size: 12px; }
.connection.live { background: var(--idle); }
.connection.down { background: var(--failed); }
#summary { color: #cbd5e0; font-size: 13px; }
main { padding: 8px 20px 24px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px 14px; margin-top: 12px; overflow-x: auto; }
h2 { font-size: 14px; margin: 4px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
svg#topology .node rect { fill: #edf2f7; stroke: #718096; stroke-width: 1.5; rx: 6; }
svg#topology .node.state-idle rect { fill: #f0fff4; stroke: var(--idle); }
svg#topology .node.state-running rect { fill: #ebf8ff; stroke: var(--running); }
svg#topology .node.state-backing-off rect { fill: #fffaf0; stroke: var(--backing-off); }
svg#topology .node.state-failed rect { fill: #fff5f5; stroke: var(--failed); stroke-width: 2.5; }
svg#topology .node .name { font-weight: 600; font-size: 13px; }
svg#topology .node .detail { font-size: 11px; fill: var(--muted); }
svg#topology .pipe { fill: none; stroke: #718096; stroke-width: 1.5; }
svg#topology .pipe.back { stroke-dasharray: 5 3; }
svg#topology marker path { fill: #718096; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.c-error { white-space: normal; max-width: 420px; color: var(--failed); font-size: 12px; }
.state { font-weight: 600; }
.state-idle { color: var(--idle); } .state-running { color: var(--running); }
.state-backing-off { color: var(--backing-off); } .state-failed { color: var(--failed); }
.state-stopping, .state-stopped { color: var(--stopped); }
tr.attention { background: #fff5f5; }
.rate { display: inline-block; min-width: 52px; text-align: right; font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.spark polyline { fill: none; stroke: var(--running); stroke-width: 1.5; }
button { font: inherit; font-size: 12px; padding: 2px 10px; margin-right: 4px; border-radius: 4px; border: 1px solid #a0aec0; background: #fff; cursor: pointer; }
button.skip { border-color: var(--failed); color: var(--failed); }
button:disabled { opacity: .5; cursor: default; }
#message { min-height: 1.4em; margin: 0 0 6px; font-size: 13px; }
#message.error { color: var(--failed); }
`;
