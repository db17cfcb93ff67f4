// The sandbox console's page: one self-contained HTML document (inline style and script, no external
// assets, works offline) that shows the fake Slack workspace as a person would see it — the channel,
// each incident's thread (parent and replies, charts shown), the App Home — polls the fake for
// changes, and sends what the person does back to the fake (button clicks, slash commands typed in
// the message box, opening the Home tab), which delivers it to the app as Slack would (signed).
// It must never render message text as HTML: every string from a message goes into the DOM as text,
// because proposal reasoning may come from an LLM; images come only from the fake's own files.

export function consolePageHtml(opts: { title: string }): string {
  const title = opts.title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Governor sandbox</title>
<style>
  :root { --fg:#1d1c1d; --muted:#616061; --line:#e8e8e8; --green:#007a5a; --red:#e01e5a; --bg:#fff; --side:#3f0e40; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.46668 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color:var(--fg); background:var(--bg); display:flex; height:100vh; overflow:hidden; }
  nav { width:220px; background:var(--side); color:#fff; padding:16px 12px; flex-shrink:0; }
  nav h1 { font-size:17px; margin:0 0 16px; }
  nav .chan { background:#1164a3; border-radius:6px; padding:4px 10px; }
  nav .note { color:#cfc3cf; font-size:12px; margin-top:24px; }
  main { flex:1; display:flex; flex-direction:column; min-width:0; min-height:0; }
  header { border-bottom:1px solid var(--line); padding:10px 20px; display:flex; gap:16px; align-items:center; flex-wrap:wrap; }
  header h2 { font-size:18px; margin:0; }
  header .status { font-size:13px; color:var(--muted); }
  header .status.off { color:var(--red); }
  header label { margin-left:auto; font-size:13px; color:var(--muted); }
  #feed { padding:8px 0 40px; overflow-y:auto; }
  .msg { display:flex; gap:8px; padding:8px 20px; }
  .msg:hover { background:#f8f8f8; }
  .avatar { width:36px; height:36px; border-radius:4px; background:#2eb67d; color:#fff; font-weight:700; display:flex; align-items:center; justify-content:center; flex-shrink:0; }
  .body { min-width:0; flex:1; }
  .meta { font-size:15px; }
  .meta b { margin-right:4px; }
  .tag { font-size:10px; background:#ddd; border-radius:2px; padding:0 3px; color:var(--muted); margin-right:6px; vertical-align:1px; }
  .time, .edited { color:var(--muted); font-size:12px; }
  .block { margin:4px 0; white-space:pre-wrap; word-wrap:break-word; }
  .header-block { font-weight:900; font-size:18px; margin:6px 0; white-space:normal; }
  .fields { display:grid; grid-template-columns:1fr 1fr; gap:6px 16px; margin:4px 0; }
  .context { color:var(--muted); font-size:12px; }
  .actions { display:flex; gap:8px; margin:8px 0; flex-wrap:wrap; }
  button.btn { font:inherit; font-weight:700; font-size:14px; padding:4px 14px; border-radius:4px; border:1px solid #ccc; background:#fff; cursor:pointer; }
  button.btn.primary { background:var(--green); border-color:var(--green); color:#fff; }
  button.btn.danger { background:var(--red); border-color:var(--red); color:#fff; }
  button.btn:disabled { opacity:.5; cursor:wait; }
  code { font:12px Menlo, Monaco, Consolas, monospace; background:#f6f6f6; border:1px solid #e0e0e0; border-radius:3px; padding:1px 3px; color:#c01343; }
  pre { font:12px Menlo, Monaco, Consolas, monospace; background:#f6f6f6; border:1px solid #e0e0e0; border-radius:4px; padding:8px; white-space:pre-wrap; }
  .mention { background:#e8f5fa; color:#1264a3; border-radius:3px; padding:0 2px; }
  .eph { background:#f4f9fd; border-left:3px solid #1264a3; }
  blockquote { margin:2px 0; padding-left:10px; border-left:4px solid #ddd; white-space:pre-wrap; }
  .eph .only { font-size:12px; color:var(--muted); }
  hr { border:none; border-top:1px solid var(--line); }
  #toast { position:fixed; bottom:16px; right:16px; background:#1d1c1d; color:#fff; padding:8px 14px; border-radius:6px; font-size:13px; display:none; }
  .empty { color:var(--muted); padding:40px 20px; }
  nav .item { border-radius:6px; padding:4px 10px; cursor:pointer; margin-bottom:4px; color:#cfc3cf; }
  nav .item.on { background:#1164a3; color:#fff; }
  .panes { flex:1; display:flex; min-height:0; overflow:hidden; }
  .channel { flex:1; display:flex; flex-direction:column; min-width:0; min-height:0; }
  #feed { flex:1; min-height:0; }
  #thread-pane { width:46%; border-left:1px solid var(--line); display:none; flex-direction:column; overflow-y:auto; }
  #thread-pane.open { display:flex; }
  #thread-pane h3 { margin:0; padding:10px 20px; border-bottom:1px solid var(--line); font-size:16px; display:flex; justify-content:space-between; }
  #thread-pane h3 button { border:none; background:none; font-size:16px; cursor:pointer; }
  button.replies { border:none; background:none; color:#1264a3; font-weight:700; cursor:pointer; padding:2px 0; font-size:13px; }
  .file img { max-width:100%; border:1px solid var(--line); border-radius:6px; margin-top:4px; }
  .file .fname { font-size:12px; color:var(--muted); }
  #composer { border-top:1px solid var(--line); padding:10px 20px; display:flex; gap:8px; }
  #cmd { flex:1; font:inherit; padding:8px 10px; border:1px solid #bbb; border-radius:6px; }
  #home-view { flex:1; padding:16px 28px; overflow-y:auto; display:none; }
  #home-view.open { display:block; }
  .hidden { display:none !important; }
</style>
</head>
<body>
<nav>
  <h1>Governor Sandbox</h1>
  <div class="item" id="home-link">🏠 Home</div>
  <div class="item on chan" id="chan"># channel</div>
  <div class="note">A local stand-in for Slack. Buttons and slash commands go to the Governor app as signed requests, exactly as Slack sends them.</div>
</nav>
<main>
  <header>
    <h2 id="title">#</h2>
    <span class="status" id="status">connecting…</span>
    <label>Act as <select id="who"></select></label>
  </header>
  <div class="panes">
    <div class="channel" id="channel-view">
      <div id="feed"><div class="empty">No messages yet.</div></div>
      <form id="composer"><input id="cmd" autocomplete="off" placeholder="Type a slash command: /incident explain latest why did you roll back?"></form>
    </div>
    <aside id="thread-pane"><h3><span>Thread</span><button type="button" id="thread-close" title="Close">✕</button></h3><div id="thread"></div></aside>
    <div id="home-view"><div id="home"></div></div>
  </div>
</main>
<div id="toast"></div>
<script>
"use strict";
(function () {
  var state = null, lastJson = "", users = {}, busy = false, openThread = null, view = "channel";
  var feed = document.getElementById("feed"), who = document.getElementById("who");
  var threadBox = document.getElementById("thread"), threadPane = document.getElementById("thread-pane");
  var homeBox = document.getElementById("home"), homeView = document.getElementById("home-view");
  var channelView = document.getElementById("channel-view"), cmd = document.getElementById("cmd");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function decode(s) { return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"); }

  // Slack mrkdwn, as much of it as Governor uses: *bold* _italic_ ~strike~ \`code\` \`\`\`pre\`\`\`,
  // <@U123>, <#C123|name>, <!here>, <!date^…|fallback>, <https://…|label>. Output is DOM nodes only.
  // As Slack does: a formatting character opens only at the start or after a space or bracket, and
  // closes only before the end, a space or punctuation, so snake_case names stay as they are.
  function inline(parent, text) {
    var re = /(\\\`[^\\\`\\n]+\\\`)|(?:^|(?<=[\\s(\\[]))(?:(\\*[^*\\n]+\\*)|(_[^_\\n]+_)|(~[^~\\n]+~))(?=$|[\\s.,;:!?)\\]])/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) parent.appendChild(document.createTextNode(decode(text.slice(last, m.index))));
      var t = m[0], inner = t.slice(1, -1), node;
      if (m[1]) node = el("code", null, decode(inner));
      else { node = el(m[2] ? "b" : m[3] ? "i" : "s"); inline(node, inner); }
      parent.appendChild(node);
      last = m.index + t.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(decode(text.slice(last))));
  }
  function control(parent, token) {
    var body = token.slice(1, -1), bar = body.indexOf("|");
    var head = bar >= 0 ? body.slice(0, bar) : body, label = bar >= 0 ? body.slice(bar + 1) : null;
    if (head.charAt(0) === "@") {
      var u = users[head.slice(1)];
      parent.appendChild(el("span", "mention", "@" + (u ? u.name : head.slice(1))));
    } else if (head.charAt(0) === "#") {
      parent.appendChild(el("span", "mention", "#" + (label || head.slice(1))));
    } else if (head.indexOf("!date^") === 0) {
      parent.appendChild(document.createTextNode(decode(label || head)));
    } else if (head.charAt(0) === "!") {
      parent.appendChild(el("span", "mention", "@" + head.slice(1).split("^")[0]));
    } else if (/^https?:\\/\\//.test(head)) {
      var a = el("a", null, decode(label || head));
      a.href = decode(head); a.target = "_blank"; a.rel = "noopener noreferrer";
      parent.appendChild(a);
    } else {
      parent.appendChild(document.createTextNode(decode(token)));
    }
  }
  function mrkdwn(parent, text) {
    var parts = String(text).split(/(\`\`\`[\\s\\S]*?\`\`\`)/);
    parts.forEach(function (part) {
      if (part.indexOf("\`\`\`") === 0 && part.length >= 6) { parent.appendChild(el("pre", null, decode(part.slice(3, -3)))); return; }
      // A line that starts with ">" is a quote (what mrkdwn.ts's quote() writes; data's own ">" is "&gt;").
      part.split("\\n").forEach(function (lineText, i, lines) {
        var target = parent;
        if (lineText.charAt(0) === ">") { target = el("blockquote"); parent.appendChild(target); lineText = lineText.slice(1); }
        var re = /<[^<>\\n]+>/g, last = 0, m;
        while ((m = re.exec(lineText)) !== null) {
          if (m.index > last) inline(target, lineText.slice(last, m.index));
          control(target, m[0]);
          last = m.index + m[0].length;
        }
        if (last < lineText.length) inline(target, lineText.slice(last));
        if (i < lines.length - 1 && target === parent) parent.appendChild(document.createTextNode("\\n"));
      });
    });
    return parent;
  }
  function textObj(parent, t) {
    if (!t || typeof t.text !== "string") return parent;
    if (t.type === "mrkdwn") return mrkdwn(parent, t.text);
    parent.appendChild(document.createTextNode(t.text));
    return parent;
  }
  function button(b, msg) {
    var btn = el("button", "btn" + (b.style ? " " + b.style : ""));
    textObj(btn, b.text);
    btn.addEventListener("click", function () { click(btn, msg.ts, b.action_id); });
    return btn;
  }
  function renderFiles(container, msg) {
    (Array.isArray(msg.files) ? msg.files : []).forEach(function (f) {
      var box = el("div", "file");
      box.appendChild(el("div", "fname", "📎 " + String(f.title || f.name || "file")));
      // Only the fake's own file URLs, and only images, become an <img>.
      if (typeof f.id === "string" && /^F[A-Z0-9]+$/.test(f.id) && /^image\\//.test(String(f.mimetype))) {
        var img = el("img"); img.src = "files/" + f.id; img.alt = String(f.alt_txt || f.title || ""); box.appendChild(img);
      }
      container.appendChild(box);
    });
  }
  function renderBlocks(container, msg) {
    var blocks = Array.isArray(msg.blocks) ? msg.blocks : [];
    renderFiles(container, msg);
    if (blocks.length === 0) { if (msg.text || !msg.files) container.appendChild(mrkdwn(el("div", "block"), msg.text || "")); return; }
    blocks.forEach(function (b) {
      if (!b || typeof b !== "object") return;
      if (b.type === "header") container.appendChild(textObj(el("div", "block header-block"), b.text));
      else if (b.type === "section") {
        if (b.text) container.appendChild(textObj(el("div", "block"), b.text));
        if (Array.isArray(b.fields)) {
          var g = el("div", "fields");
          b.fields.forEach(function (f) { g.appendChild(textObj(el("div", "block"), f)); });
          container.appendChild(g);
        }
        if (b.accessory && b.accessory.type === "button") {
          var row = el("div", "actions"); row.appendChild(button(b.accessory, msg)); container.appendChild(row);
        }
      } else if (b.type === "context") {
        var c = el("div", "block context");
        (b.elements || []).forEach(function (e, i) {
          if (i > 0) c.appendChild(document.createTextNode("  ·  "));
          if (e && typeof e.text === "string") textObj(c, e);
        });
        container.appendChild(c);
      } else if (b.type === "actions") {
        var r = el("div", "actions");
        (b.elements || []).forEach(function (e) { if (e && e.type === "button") r.appendChild(button(e, msg)); });
        container.appendChild(r);
      } else if (b.type === "divider") container.appendChild(el("hr"));
    });
  }
  function timeOf(ts) {
    var d = new Date(parseFloat(ts) * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  function renderMessage(m, ephemeral, replies) {
    var row = el("div", "msg" + (ephemeral ? " eph" : ""));
    row.setAttribute("data-ts", m.ts);
    row.appendChild(el("div", "avatar", "G"));
    var body = el("div", "body"), meta = el("div", "meta");
    meta.appendChild(el("b", null, state.bot.name));
    meta.appendChild(el("span", "tag", "APP"));
    meta.appendChild(el("span", "time", timeOf(ephemeral ? m.ts : m.ts)));
    if (m.edited) meta.appendChild(el("span", "edited", " (edited)"));
    body.appendChild(meta);
    if (ephemeral) body.appendChild(el("div", "only", "Only visible to you"));
    renderBlocks(body, m);
    if (replies && replies.length > 0) {
      var r = el("button", "replies", "💬 " + replies.length + (replies.length === 1 ? " reply" : " replies"));
      r.type = "button";
      r.addEventListener("click", function () { openThread = m.ts; render(); });
      body.appendChild(r);
    }
    row.appendChild(body);
    return row;
  }
  function renderThread(chan) {
    if (!openThread) { threadPane.className = ""; return; }
    var parent = state.messages.filter(function (m) { return m.channel === chan.id && m.ts === openThread; })[0];
    if (!parent) { openThread = null; threadPane.className = ""; return; }
    threadPane.className = "open";
    var keep = threadBox.scrollTop;
    threadBox.textContent = "";
    threadBox.appendChild(renderMessage(parent, false));
    threadBox.appendChild(el("hr"));
    state.messages.filter(function (m) { return m.channel === chan.id && m.thread_ts === openThread; })
      .sort(function (a, b) { return parseFloat(a.ts) - parseFloat(b.ts); })
      .forEach(function (m) { threadBox.appendChild(renderMessage(m, false)); });
    threadBox.scrollTop = keep;
  }
  function renderHome() {
    var me = who.value, v = state.home ? state.home[me] : null;
    homeBox.textContent = "";
    if (!v) { homeBox.appendChild(el("div", "empty", "Opening the Home tab…")); return; }
    renderBlocks(homeBox, { blocks: v.blocks, ts: "0" });
  }
  function render() {
    var me = who.value, chan = state.channels[0] || { id: "", name: "channel" };
    document.getElementById("chan").textContent = "# " + chan.name;
    document.getElementById("title").textContent = "#" + chan.name;
    var st = document.getElementById("status");
    st.textContent = state.connected ? "app connected" : "no app connected yet";
    st.className = "status" + (state.connected ? "" : " off");
    document.getElementById("chan").className = "item chan" + (view === "channel" ? " on" : "");
    document.getElementById("home-link").className = "item" + (view === "home" ? " on" : "");
    channelView.className = "channel" + (view === "channel" ? "" : " hidden");
    homeView.className = view === "home" ? "open" : "";
    if (view === "home") { threadPane.className = ""; renderHome(); return; }
    var top = state.messages.filter(function (m) { return m.channel === chan.id && !m.thread_ts; });
    var items = top.map(function (m) { return { ts: m.ts, m: m, eph: false }; })
      .concat(state.ephemerals.filter(function (e) { return e.user === me && e.channel === chan.id; }).map(function (e) { return { ts: e.ts, m: e, eph: true }; }));
    items.sort(function (a, b) { return parseFloat(a.ts) - parseFloat(b.ts); });
    var atBottom = feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 40;
    feed.textContent = "";
    if (items.length === 0) feed.appendChild(el("div", "empty", "No messages yet. Proposals that need a human appear here."));
    items.forEach(function (i) {
      var replies = i.eph ? [] : state.messages.filter(function (m) { return m.thread_ts === i.m.ts && m.ts !== i.m.ts; });
      feed.appendChild(renderMessage(i.m, i.eph, replies));
    });
    if (atBottom) feed.scrollTop = feed.scrollHeight;
    renderThread(chan);
  }
  function syncUsers() {
    var current = who.value;
    users = {};
    state.users.forEach(function (u) { users[u.id] = u; });
    var ids = state.users.map(function (u) { return u.id; }).join(",");
    if (who.getAttribute("data-ids") !== ids) {
      who.textContent = "";
      state.users.forEach(function (u) {
        var o = el("option", null, u.real_name + " (@" + u.name + ")"); o.value = u.id; who.appendChild(o);
      });
      who.setAttribute("data-ids", ids);
      if (current && users[current]) who.value = current;
    }
  }
  function toast(text) {
    var t = document.getElementById("toast");
    t.textContent = text; t.style.display = "block";
    clearTimeout(toast.timer); toast.timer = setTimeout(function () { t.style.display = "none"; }, 4000);
  }
  function send(path, body, what) {
    return fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); })
      .then(function (r) { if (!r.ok) toast(what + " not delivered: " + (r.error || ("HTTP " + r.status))); })
      .catch(function (e) { toast(what + " failed: " + e.message); });
  }
  function click(btn, ts, actionId) {
    if (busy) return;
    busy = true; btn.disabled = true;
    send("console/click", { ts: ts, actionId: actionId, userId: who.value }, "Click")
      .then(function () { busy = false; btn.disabled = false; poll(); });
  }
  function showHome() {
    view = "home"; if (state) render();
    send("console/home", { userId: who.value }, "Home").then(poll);
  }
  function poll() {
    fetch("console/state", { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (text) {
        if (text === lastJson) return;
        lastJson = text; state = JSON.parse(text);
        syncUsers(); render();
      })
      .catch(function () {
        var st = document.getElementById("status");
        st.textContent = "sandbox not reachable"; st.className = "status off";
      });
  }
  who.addEventListener("change", function () { if (view === "home") showHome(); else if (state) render(); });
  document.getElementById("home-link").addEventListener("click", showHome);
  document.getElementById("chan").addEventListener("click", function () { view = "channel"; if (state) render(); });
  document.getElementById("thread-close").addEventListener("click", function () { openThread = null; if (state) render(); });
  document.getElementById("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var line = cmd.value.trim();
    if (!line) return;
    if (line.charAt(0) !== "/") { toast("Only slash commands can be typed here, e.g. /incident list"); return; }
    cmd.value = "";
    send("console/command", { line: line, userId: who.value }, "Command").then(poll);
  });
  poll();
  setInterval(poll, 1000);
})();
</script>
</body>
</html>
`;
}
