/* city311's chat widget: vanilla JS in the page's slot <aside id="chat-widget" data-chat-slot
   data-language="..">. It talks to the assistant over the websocket /ws/chat/ (protocol in
   chatbot/consumers.py), renders replies and their buttons, uploads a photo to
   /api/v1/chat/photos and shares the device's location, both sent along with the next
   message as metadata. The conversation id lives in sessionStorage (this tab). */
(function () {
  "use strict";
  var slot = document.querySelector("[data-chat-slot]");
  if (!slot || !window.WebSocket) { return; }
  var T = {
    en: { open: "Chat with us", title: "city311 assistant", close: "Close the chat",
      placeholder: "Type your message", send: "Send", locate: "Share my location",
      photo: "Add a photo", located: "📍 Location attached", photoReady: "📷 Photo attached",
      myLocation: "📍 My location", noLocation: "Your location is not available.",
      uploading: "Uploading the photo…", typing: "The assistant is typing…",
      offline: "Reconnecting…", photoError: "The photo could not be uploaded: " },
    es: { open: "Chatea con nosotros", title: "Asistente de city311", close: "Cerrar el chat",
      placeholder: "Escribe tu mensaje", send: "Enviar", locate: "Compartir mi ubicación",
      photo: "Agregar una foto", located: "📍 Ubicación adjunta", photoReady: "📷 Foto adjunta",
      myLocation: "📍 Mi ubicación", noLocation: "Tu ubicación no está disponible.",
      uploading: "Subiendo la foto…", typing: "El asistente está escribiendo…",
      offline: "Reconectando…", photoError: "No se pudo subir la foto: " },
    vi: { open: "Trò chuyện", title: "Trợ lý city311", close: "Đóng",
      placeholder: "Nhập tin nhắn", send: "Gửi", locate: "Chia sẻ vị trí",
      photo: "Thêm ảnh", located: "📍 Đã đính kèm vị trí", photoReady: "📷 Đã đính kèm ảnh",
      myLocation: "📍 Vị trí của tôi", noLocation: "Không lấy được vị trí.",
      uploading: "Đang tải ảnh…", typing: "Trợ lý đang trả lời…",
      offline: "Đang kết nối lại…", photoError: "Không tải được ảnh: " }
  };
  var language = (slot.getAttribute("data-language") || document.documentElement.lang || "en").slice(0, 2);
  var t = T[language] || T.en;
  var KEY = "city311.chat.conversation";
  var conversationId = sessionStorage.getItem(KEY) || "";
  var pending = { photo: null, location: null };
  var queue = [];
  var socket = null;
  var retry = 0;
  var askedForLocation = false;

  var ICONS = {  // drawn, not emoji: not every device has an emoji font
    pin: "M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z",
    camera: "M9 4 7.5 6H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V8a2 2 0 0 0-2-2h-3.5L15 4H9zm3 4.5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9z"
  };
  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  // --- The markup
  var toggle = el("button", { type: "button", "class": "chat-toggle", "aria-expanded": "false",
    "aria-controls": "chat-panel" }, t.open);
  var panel = el("section", { id: "chat-panel", "class": "chat-panel", "aria-labelledby": "chat-title", hidden: "" });
  var head = el("div", { "class": "chat-head" });
  head.appendChild(el("h2", { id: "chat-title" }, t.title));
  var closeButton = el("button", { type: "button", "aria-label": t.close }, "×");
  head.appendChild(closeButton);
  var log = el("ol", { "class": "chat-log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var typing = el("div", { "class": "chat-typing", "aria-hidden": "true" });
  var chips = el("div", { "class": "chat-pending", "aria-live": "polite" });
  var form = el("form", { "class": "chat-form" });
  var inputLabel = el("label", { "for": "chat-input", "class": "visually-hidden" }, t.placeholder);
  var input = el("input", { id: "chat-input", type: "text", autocomplete: "off", maxlength: "2000",
    placeholder: t.placeholder, enterkeyhint: "send" });
  var locate = el("button", { type: "button", title: t.locate, "aria-label": t.locate });
  locate.appendChild(icon("pin"));
  var photoLabel = el("label", { "class": "chat-photo", title: t.photo });
  photoLabel.appendChild(icon("camera"));
  var photoInput = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", "aria-label": t.photo });
  photoLabel.appendChild(photoInput);
  var send = el("button", { type: "submit", "class": "primary" }, t.send);
  [inputLabel, input, locate, photoLabel, send].forEach(function (n) { form.appendChild(n); });
  [head, log, typing, chips, form].forEach(function (n) { panel.appendChild(n); });
  slot.appendChild(toggle);
  slot.appendChild(panel);

  // --- Showing messages
  var LINK = /(https?:\/\/[^\s)]+|(?:^|\s)\/report\b)/g;
  function withLinks(node, text) {
    var last = 0;
    text.replace(LINK, function (match, _g, offset) {
      var url = match.trim();
      var start = offset + match.indexOf(url);
      node.appendChild(document.createTextNode(text.slice(last, start)));
      var a = el("a", { href: url, target: "_blank", rel: "noopener" }, url);
      node.appendChild(a);
      last = start + url.length;
      return match;
    });
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  function show(kind, text, buttons) {
    var item = el("li", { "class": "chat-msg " + kind });
    withLinks(item, text);
    if (buttons && buttons.length) {
      var row = el("div", { "class": "chat-buttons" });
      buttons.forEach(function (b) {
        if (b.payload === "/share_location") { askedForLocation = true; }
        var button = el("button", { type: "button" }, b.title);
        button.addEventListener("click", function () { choose(b); });
        row.appendChild(button);
      });
      item.appendChild(row);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }
  function showChips() {
    chips.textContent = "";
    if (pending.location) { chips.appendChild(el("span", {}, t.located)); }
    if (pending.photo) { chips.appendChild(el("span", {}, t.photoReady)); }
  }

  // --- The socket
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/chat/");
    socket.addEventListener("open", function () {
      retry = 0;
      typing.textContent = queue.length ? t.typing : "";
      while (queue.length) { socket.send(JSON.stringify(queue.shift())); }
    });
    socket.addEventListener("message", function (event) {
      var data = JSON.parse(event.data);
      typing.textContent = "";
      if (data.conversation_id) {
        conversationId = data.conversation_id;
        sessionStorage.setItem(KEY, conversationId);
      }
      if (data.type === "replies") {
        askedForLocation = false;
        // Earlier questions' buttons are answered: only the newest ones stay live.
        Array.prototype.forEach.call(log.querySelectorAll(".chat-buttons button"), function (b) {
          b.disabled = true;
        });
        data.replies.forEach(function (r) { show("bot", r.text, r.buttons); });
      } else if (data.type === "error") {
        if (data.errors && data.errors.conversation_id) {  // expired or foreign: start again
          conversationId = "";
          sessionStorage.removeItem(KEY);
        }
        show("notice", data.detail || "Error");
      }
    });
    socket.addEventListener("close", function () {
      socket = null;
      if (!panel.hidden) {
        typing.textContent = t.offline;
        retry = Math.min(retry + 1, 6);
        setTimeout(connect, 500 * Math.pow(2, retry));
      }
    });
  }
  function transmit(message) {
    var body = { type: "message", message: message, language: language, metadata: {} };
    if (conversationId) { body.conversation_id = conversationId; }
    if (pending.photo) { body.metadata.photo = pending.photo; }
    if (pending.location) { body.metadata.location = pending.location; }
    pending.photo = null;
    pending.location = null;
    showChips();
    typing.textContent = t.typing;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(body));
    } else {
      queue.push(body);
      if (!socket) { connect(); }
    }
  }
  function say(text) {
    show("me", text);
    transmit(text);
  }
  function choose(button) {
    if (button.payload === "/share_location") { shareLocation(true); return; }
    show("me", button.title);
    transmit(button.payload);
  }

  // --- Location and photo
  function shareLocation(now) {
    if (!navigator.geolocation) { show("notice", t.noLocation); return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      pending.location = { lat: position.coords.latitude, long: position.coords.longitude };
      if (now || askedForLocation) { say(t.myLocation); } else { showChips(); }
    }, function () { show("notice", t.noLocation); }, { enableHighAccuracy: true, timeout: 15000 });
  }
  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function uploadPhoto(file) {
    if (!conversationId) { return; }
    var body = new FormData();
    body.append("conversation_id", conversationId);
    body.append("photo", file);
    typing.textContent = t.uploading;
    fetch("/api/v1/chat/photos", { method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept-Language": language } })
      .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (result) {
        typing.textContent = "";
        if (result[0]) { pending.photo = result[1].photo; showChips(); }
        else { show("notice", t.photoError + (result[1].errors && result[1].errors.photo || result[1].detail)); }
      })
      .catch(function () { typing.textContent = ""; show("notice", t.photoError); });
  }

  // --- Events
  function open() {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    input.focus();
    if (!socket) { connect(); }
    if (!conversationId && !log.children.length) { transmit("/greet"); }
  }
  function close() {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }
  toggle.addEventListener("click", function () { if (panel.hidden) { open(); } else { close(); } });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); } });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    say(text);
  });
  locate.addEventListener("click", function () { shareLocation(false); });
  photoInput.addEventListener("change", function () {
    if (photoInput.files && photoInput.files[0]) { uploadPhoto(photoInput.files[0]); }
    photoInput.value = "";
  });
})();
