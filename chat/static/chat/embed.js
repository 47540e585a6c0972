/* Trellis chat embed: <script src="https://…/chat/embed.js" data-deployment="<public_id>" async></script>
   adds a launcher button and a chat iframe to the page. Independent of the Trellis app bundle; kept small
   (a test holds it under 15 KB gzipped). The chat refuses to run on a site that is not in the deployment's
   allowed origins: the server answers the config only to those origins, and the chat page's
   Content-Security-Policy (frame-ancestors) says the same to the browser. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-deployment")) return;
  var id = script.getAttribute("data-deployment");
  var base = new URL(script.src, location.href).origin;
  var configUrl = base + "/chat/" + encodeURIComponent(id) + "/api/config";

  fetch(configUrl, { credentials: "omit", mode: "cors" })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(mount, function () {
      if (window.console) console.warn("Trellis chat: this site is not allowed to embed chat " + id + ".");
    });

  function mount(config) {
    var color = /^#[0-9a-fA-F]{6}$/.test(config.color || "") ? config.color : "#2563eb";
    var host = document.createElement("div");
    host.setAttribute("data-trellis-chat", id);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var style = document.createElement("style");
    style.textContent =
      ":host{all:initial}" +
      ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
      "background:" + color + ";color:#fff;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.25);" +
      "z-index:2147483646;display:flex;align-items:center;justify-content:center}" +
      ".launcher svg{width:26px;height:26px}" +
      ".panel{position:fixed;right:20px;bottom:88px;width:380px;height:600px;max-width:calc(100vw - 40px);" +
      "max-height:calc(100vh - 110px);border:0;border-radius:16px;box-shadow:0 8px 32px rgba(0,0,0,.25);" +
      "background:#fff;z-index:2147483647;display:none}" +
      ".panel.open{display:block}" +
      "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;max-width:none;" +
      "max-height:none;border-radius:0}.panel.open~.launcher{display:none}}";
    root.appendChild(style);

    var frame = null;
    var launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "launcher";
    launcher.setAttribute("aria-label", "Open chat: " + (config.title || "Chat"));
    launcher.setAttribute("aria-expanded", "false");
    launcher.innerHTML =
      '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" ' +
      'stroke-linejoin="round" aria-hidden="true"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 ' +
      '2 0 0 1 2 2z"/></svg>';

    function toggle(open) {
      if (open && !frame) {
        frame = document.createElement("iframe");
        frame.className = "panel";
        frame.title = config.title || "Chat";
        frame.src = base + config.url + "?embed=1";
        frame.setAttribute("referrerpolicy", "strict-origin");
        root.insertBefore(frame, launcher);
      }
      if (frame) frame.classList.toggle("open", open);
      launcher.setAttribute("aria-expanded", String(open));
      launcher.setAttribute("aria-label", (open ? "Close chat: " : "Open chat: ") + (config.title || "Chat"));
    }

    launcher.addEventListener("click", function () {
      toggle(launcher.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && launcher.getAttribute("aria-expanded") === "true") toggle(false);
    });
    root.appendChild(launcher);
    (document.body || document.documentElement).appendChild(host);
  }
})();
