// The chat page: one WebSocket to /chat and one to /ticker, each reconnecting
// with capped exponential backoff after the server goes away, so the page
// survives a restart of "starling serve".
"use strict";

const wsBase = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
const params = new URLSearchParams(location.search);
const log = document.getElementById("log");
const statusEl = document.getElementById("status");
const membersEl = document.getElementById("members");
const form = document.getElementById("send");
const input = document.getElementById("text");
let chat = null;
let myName = params.get("name") || sessionStorage.getItem("starling-name") || "";

// reconnecting opens url and reopens it after every close, calling
// onopen/onmessage/onclose for each connection.
function reconnecting(url, handlers) {
  let delay = 250;
  function open() {
    const ws = new WebSocket(url());
    ws.onopen = () => { delay = 250; handlers.onopen && handlers.onopen(ws); };
    ws.onmessage = (e) => handlers.onmessage(JSON.parse(e.data));
    ws.onclose = (e) => {
      handlers.onclose && handlers.onclose(e, delay);
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  }
  open();
}

function setStatus(cls, text) {
  statusEl.className = "status " + cls;
  statusEl.textContent = text;
}

function add(cls, parts, time) {
  const li = document.createElement("li");
  li.className = cls;
  const t = document.createElement("time");
  const d = time ? new Date(time) : new Date();
  t.textContent = d.toLocaleTimeString();
  li.appendChild(t);
  for (const [c, text] of parts) {
    const span = document.createElement("span");
    span.className = c;
    span.textContent = text;
    li.appendChild(span);
  }
  log.appendChild(li);
  log.scrollTop = log.scrollHeight;
}

function showMembers(count) {
  membersEl.textContent = count + (count === 1 ? " member" : " members") + " online";
}

reconnecting(() => wsBase + "/chat" + (myName ? "?name=" + encodeURIComponent(myName) : ""), {
  onopen(ws) {
    chat = ws;
    setStatus("open", "connected");
    form.querySelector("button").disabled = false;
  },
  onmessage(ev) {
    switch (ev.type) {
    case "welcome":
      myName = ev.name;
      sessionStorage.setItem("starling-name", myName);
      add("notice", [["", "You joined as " + ev.name + ". Here: " + ev.members.join(", ")]], ev.time);
      break;
    case "join":
      add("notice", [["", ev.name + " joined"]], ev.time);
      break;
    case "leave":
      add("notice", [["", ev.name + " left"]], ev.time);
      break;
    case "message":
      add(ev.name === myName ? "msg me" : "msg", [["name", ev.name], ["text", ev.text]], ev.time);
      break;
    }
    if (ev.count) showMembers(ev.count);
  },
  onclose(e, delay) {
    const why = e.code === 1001 ? "server went away" : "closed (" + e.code + ")";
    if (chat) add("notice", [["", "Disconnected: " + why + ". Reconnecting…"]]);
    chat = null;
    form.querySelector("button").disabled = true;
    setStatus("closed", why + "; reconnecting in " + (delay / 1000).toFixed(1) + "s");
  },
});

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || !chat) return;
  chat.send(text);
  input.value = "";
});

const quoteRows = new Map();
reconnecting(() => wsBase + "/ticker", {
  onmessage(q) {
    let row = quoteRows.get(q.symbol);
    if (!row) {
      row = document.querySelector("#quotes tbody").insertRow();
      row.insertCell().textContent = q.symbol;
      row.insertCell().className = "price";
      row.insertCell();
      quoteRows.set(q.symbol, row);
    }
    row.cells[1].textContent = q.price.toFixed(2);
    row.cells[2].textContent = (q.change >= 0 ? "+" : "") + q.change.toFixed(2) + "%";
    row.cells[2].className = "change " + (q.change >= 0 ? "up" : "down");
  },
});
