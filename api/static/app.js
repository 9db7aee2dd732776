// chungthuc: small progressive enhancements. Every page works without this script.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-print]");
    if (t) { e.preventDefault(); window.print(); }
    var b = e.target.closest("[data-back]");
    if (b && history.length > 1) { e.preventDefault(); history.back(); }
  });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // Upload of scans: drag and drop, reorder, preview; the files are sent in the order shown.
  var form = document.getElementById("certify-form");
  if (form) {
    var input = document.getElementById("files"), drop = document.getElementById("drop");
    var list = document.getElementById("file-list"), progress = document.getElementById("progress");
    var files = [], dragIndex = -1;
    var label = function (k) { return list.getAttribute("data-" + k); };
    var add = function (fl) {
      for (var i = 0; i < fl.length; i++) {
        var f = fl[i];
        if (/^(image\/(jpeg|png)|application\/pdf)$/.test(f.type) || /\.(jpe?g|png|pdf)$/i.test(f.name)) files.push(f);
      }
      render();
    };
    var move = function (i, d) {
      var j = i + d;
      if (j < 0 || j >= files.length) return;
      var x = files[i]; files[i] = files[j]; files[j] = x; render();
      var btn = list.children[j] && list.children[j].querySelector(d < 0 ? "[data-up]" : "[data-down]");
      if (btn) btn.focus();
    };
    var render = function () {
      list.innerHTML = "";
      files.forEach(function (f, i) {
        var li = document.createElement("li");
        li.draggable = true;
        li.addEventListener("dragstart", function () { dragIndex = i; });
        li.addEventListener("dragover", function (e) { e.preventDefault(); });
        li.addEventListener("drop", function (e) {
          e.preventDefault(); e.stopPropagation();
          if (dragIndex < 0 || dragIndex === i) return;
          var x = files.splice(dragIndex, 1)[0]; files.splice(i, 0, x); dragIndex = -1; render();
        });
        var thumb;
        if (f.type.indexOf("image/") === 0) {
          thumb = document.createElement("img"); thumb.alt = "";
          thumb.src = URL.createObjectURL(f);
          thumb.onload = function () { URL.revokeObjectURL(thumb.src); };
        } else { thumb = document.createElement("span"); thumb.className = "pdf"; thumb.textContent = "PDF"; }
        var name = document.createElement("span"); name.className = "name";
        name.textContent = (i + 1) + ". " + f.name + " (" + Math.round(f.size / 1024) + " KB)";
        li.appendChild(thumb); li.appendChild(name);
        [["up", -1, "↑"], ["down", 1, "↓"]].forEach(function (b) {
          var btn = document.createElement("button"); btn.type = "button"; btn.className = "btn";
          btn.setAttribute("data-" + b[0], ""); btn.textContent = b[2];
          btn.setAttribute("aria-label", label(b[0]) + ": " + f.name);
          btn.addEventListener("click", function () { move(i, b[1]); });
          li.appendChild(btn);
        });
        var rm = document.createElement("button"); rm.type = "button"; rm.className = "btn"; rm.textContent = "✕";
        rm.setAttribute("aria-label", label("remove") + ": " + f.name);
        rm.addEventListener("click", function () { files.splice(i, 1); render(); });
        li.appendChild(rm);
        list.appendChild(li);
      });
    };
    input.addEventListener("change", function () { add(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) { if (e.dataTransfer) add(e.dataTransfer.files); });
    drop.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!files.length) { input.required = true; drop.focus(); progress.textContent = "⚠ " + (drop.querySelector("p").textContent); return; }
      var fd = new FormData();
      ["doc_title", "issuer", "requester", "officer_title"].forEach(function (n) { fd.append(n, form.elements[n].value); });
      files.forEach(function (f) { fd.append("file", f, f.name); });
      var btn = document.getElementById("certify-btn"); btn.disabled = true; progress.textContent = "…";
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) progress.textContent = Math.round(100 * ev.loaded / ev.total) + "%"; };
      xhr.onload = function () {
        history.replaceState(null, "", "/ws/new");
        document.open(); document.write(xhr.responseText); document.close();
      };
      xhr.onerror = function () { btn.disabled = false; progress.textContent = "⚠"; };
      xhr.send(fd);
    });
  }

  // Verify by hash: SHA-256 in the browser; only the hash is sent.
  var vform = document.getElementById("verify-form");
  if (vform && window.crypto && crypto.subtle) {
    var hb = document.getElementById("hash-only"), out = document.getElementById("hash-result");
    hb.hidden = false;
    hb.addEventListener("click", function () {
      var f = document.getElementById("vfile").files[0];
      if (!f) { document.getElementById("vfile").focus(); return; }
      out.textContent = out.getAttribute("data-hashing");
      f.arrayBuffer().then(function (buf) { return crypto.subtle.digest("SHA-256", buf); }).then(function (d) {
        var hex = Array.prototype.map.call(new Uint8Array(d), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
        return fetch("/api/v1/verify/hash", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sha256: hex }) });
      }).then(function (r) { return r.json(); }).then(function (j) {
        var msg = j.status === "valid" ? out.getAttribute("data-valid") : j.status === "revoked" ? out.getAttribute("data-revoked") : out.getAttribute("data-none");
        out.className = "card status " + (j.status === "valid" ? "valid" : "revoked");
        out.textContent = msg + (j.number ? " — " + out.getAttribute("data-number") + " " + j.number + ", " + j.book + " — " + j.unit : "") + (j.revoke_reason ? " (" + j.revoke_reason + ")" : "");
      }).catch(function () { out.textContent = out.getAttribute("data-error"); });
    });
  }
})();
