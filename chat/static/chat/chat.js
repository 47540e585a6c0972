/* The hosted chat page (/chat/<public_id>): threads kept per visitor, answers streamed over Server-Sent Events.
   Plain script, no bundle, no inline code (the page's CSP allows only 'self'). Visitor text is only ever set as
   textContent; answer HTML comes from the server, rendered from Markdown with raw HTML off. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var api = config.api;
  var log = document.getElementById("log");
  var input = document.getElementById("input");
  var form = document.getElementById("composer");
  var sendButton = document.getElementById("send");
  var notice = document.getElementById("notice");
  var starters = document.getElementById("starters");
  var threadId = null;
  var busy = false;
  var memoryKey = "trellis-chat:" + api;
  var source = null;

  if (config.color) document.documentElement.style.setProperty("--accent", config.color);
  document.querySelector("#greeting .bubble").textContent = config.greeting || "Hi! How can I help?";
  (config.starter_prompts || []).forEach(function (prompt) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "starter";
    button.textContent = prompt;
    button.addEventListener("click", function () { send(prompt); });
    starters.appendChild(button);
  });

  function request(method, path, body) {
    var options = { method: method, headers: { "X-Trellis-Chat": "1" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = (data && data.error) || {};
          var err = new Error(error.message || "Something went wrong. Please try again.");
          err.status = response.status;
          throw err;
        }
        return data;
      });
    });
  }

  function say(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    form.classList.toggle("busy", value);
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function bubble(role) {
    var row = document.createElement("div");
    row.className = "msg " + role;
    var inner = document.createElement("div");
    inner.className = "bubble";
    row.appendChild(inner);
    log.appendChild(row);
    starters.hidden = true;
    scrollDown();
    return row;
  }

  function renderMessage(row, message) {
    var inner = row.querySelector(".bubble");
    row.dataset.id = message.id;
    row.classList.remove("streaming", "failed", "waiting");
    var old = row.querySelectorAll(".footnotes, .approval");
    for (var i = 0; i < old.length; i++) old[i].remove();
    if (message.role === "user") {
      inner.textContent = message.content;
      return;
    }
    if (message.status === "pending") {
      row.classList.add("streaming");
      return;
    }
    if (message.status === "failed") row.classList.add("failed");
    inner.innerHTML = message.html;  // server-rendered: Markdown with raw HTML off, unsafe links dropped
    if (message.citations && message.citations.length) {
      var notes = document.createElement("ol");
      notes.className = "footnotes";
      message.citations.forEach(function (citation) {
        var item = document.createElement("li");
        var label = citation.title || citation.url || "Source";
        if (citation.url && /^https?:\/\//i.test(citation.url)) {
          var link = document.createElement("a");
          link.href = citation.url;
          link.target = "_blank";
          link.rel = "noopener noreferrer nofollow";
          link.textContent = label;
          item.appendChild(link);
        } else {
          item.textContent = label;
        }
        if (citation.text) {
          var quote = document.createElement("span");
          quote.className = "quote";
          quote.textContent = " — " + citation.text;
          item.appendChild(quote);
        }
        notes.appendChild(item);
      });
      row.appendChild(notes);
    }
    if (message.status === "waiting") {
      row.classList.add("waiting");
      if (message.approval) {
        renderApproval(row, message);
      } else if (!message.content) {
        inner.textContent = "One moment, this needs a check by our team…";
      }
    }
  }

  function renderApproval(row, message) {
    var box = document.createElement("div");
    box.className = "approval";
    var text = document.createElement("p");
    text.textContent = message.approval.message;
    box.appendChild(text);
    [["approved", "Approve"], ["rejected", "Reject"]].forEach(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = choice[0] === "approved" ? "approve" : "reject";
      button.textContent = choice[1];
      button.addEventListener("click", function () {
        var buttons = box.querySelectorAll("button");
        for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
        setBusy(true);
        request("POST", "/threads/" + threadId + "/messages/" + message.id + "/approval", {
          step_id: message.approval.step_id,
          decision: choice[0],
        }).then(function (data) {
          box.remove();
          row.querySelector(".bubble").textContent = "";
          row.classList.remove("waiting");
          row.classList.add("streaming");
          follow(row, data.stream_url);
        }).catch(function (err) {
          setBusy(false);
          say(err.message);
          for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
        });
      });
      box.appendChild(button);
    });
    row.appendChild(box);
  }

  // The answer as it streams: plain text while it arrives, then the stored answer replaces it. EventSource
  // reconnects by itself after a dropped connection and sends the last event id: the server goes on from there.
  function follow(row, url) {
    if (source) source.close();
    var inner = row.querySelector(".bubble");
    inner.textContent = "";
    row.classList.add("streaming");
    setBusy(true);
    source = new EventSource(url);
    source.addEventListener("token", function (event) {
      inner.appendChild(document.createTextNode(JSON.parse(event.data).text));
      scrollDown();
    });
    source.addEventListener("done", function (event) {
      source.close();
      source = null;
      renderMessage(row, JSON.parse(event.data));
      setBusy(false);
      scrollDown();
      input.focus();
    });
  }

  // Which conversation this browser was in, so a reload opens it again (the server keeps the threads).
  function remember(id) {
    try {
      if (id) localStorage.setItem(memoryKey, id);
      else localStorage.removeItem(memoryKey);
    } catch (e) { /* storage blocked: the newest thread opens instead */ }
  }

  function remembered() {
    try { return localStorage.getItem(memoryKey); } catch (e) { return null; }
  }

  function ensureThread() {
    if (threadId) return Promise.resolve(threadId);
    return request("POST", "/threads").then(function (thread) {
      threadId = thread.id;
      remember(threadId);
      return threadId;
    });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    if (text.length > config.max_message_chars) {
      say("Messages can be at most " + config.max_message_chars + " characters.");
      return;
    }
    say("");
    setBusy(true);
    ensureThread().then(function (id) {
      return request("POST", "/threads/" + id + "/messages", { message: text });
    }).then(function (data) {
      input.value = "";
      autosize();
      renderMessage(bubble("user"), data.question);
      follow(bubble("assistant"), data.stream_url);
    }).catch(function (err) {
      setBusy(false);
      say(err.status === 429 ? err.message : err.message || "Something went wrong. Please try again.");
    });
  }

  function clearLog() {
    var rows = log.querySelectorAll(".msg:not(.greeting)");
    for (var i = 0; i < rows.length; i++) rows[i].remove();
    starters.hidden = false;
  }

  function load() {
    request("GET", "/threads").then(function (data) {
      if (!data.threads.length) return;
      var wanted = remembered();
      var pick = data.threads.filter(function (t) { return t.id === wanted; })[0] || data.threads[0];
      return request("GET", "/threads/" + pick.id).then(function (thread) {
        threadId = thread.id;
        thread.messages.forEach(function (message) {
          var row = bubble(message.role);
          renderMessage(row, message);
          if (message.role === "assistant" && message.status === "pending") {
            follow(row, api + "/threads/" + thread.id + "/messages/" + message.id + "/stream");
          }
        });
      });
    }).catch(function (err) { say(err.message); });
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(input.value);
    }
  });
  input.addEventListener("input", autosize);
  document.getElementById("new-conversation").addEventListener("click", function () {
    if (source) { source.close(); source = null; }
    threadId = null;
    remember(null);
    setBusy(false);
    say("");
    clearLog();
    input.focus();
  });

  load();
})();
