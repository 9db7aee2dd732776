// chungthuc workspace: drag-and-drop upload with preview, reordering and focus kept on the
// moved file, size and type checked before sending, upload progress (XMLHttpRequest; the
// plain form works without script), hash-only verification (SHA-256 computed in the
// browser, which needs https), printing.
"use strict";
(function () {
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  var mb = function (n) { return (n / 1048576).toFixed(1).replace(".", document.documentElement.lang === "vi" ? "," : ".") + " MB"; };
  var fill = function (s, m) { return s.replace(/\{(\w+)\}/g, function (_, k) { return m[k]; }); };

  // Certify: keep our own ordered list of files and write it back into the input.
  var form = document.getElementById("certify-form");
  var input = document.getElementById("files");
  var list = document.getElementById("file-list");
  var drop = document.getElementById("drop");
  var errBox = document.getElementById("upload-error");
  var okType = /^(image\/jpeg|image\/png|application\/pdf)$|\.(jpe?g|png|pdf)$/i;
  var showError = function (msg) {
    if (!errBox) return;
    errBox.textContent = msg;
    errBox.hidden = !msg;
  };
  var check = function (fl) {
    if (!form) return "";
    var total = 0;
    for (var i = 0; i < fl.length; i++) {
      total += fl[i].size;
      if (!okType.test(fl[i].type) && !okType.test(fl[i].name)) return fill(form.dataset.badtype, { name: fl[i].name });
    }
    var max = parseInt(form.dataset.max, 10);
    if (max && total > max - 1048576) return fill(form.dataset.toolarge, { size: mb(total), max: mb(max - 1048576) });
    return "";
  };
  if (form && input && list && drop && window.DataTransfer) {
    var files = [];
    var sync = function (focusIndex, focusTool) {
      var dt = new DataTransfer();
      files.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
      list.innerHTML = "";
      showError(check(files));
      files.forEach(function (f, i) {
        var li = document.createElement("li");
        if (f.type.indexOf("image/") === 0) {
          var img = document.createElement("img");
          img.alt = "";
          img.src = URL.createObjectURL(f);
          li.appendChild(img);
        }
        var name = document.createElement("div");
        name.textContent = (i + 1) + ". " + f.name + " (" + Math.round(f.size / 1024) + " KB)";
        li.appendChild(name);
        var tools = document.createElement("div");
        tools.className = "tools";
        [["↑", -1, form.dataset.up], ["↓", 1, form.dataset.down], ["✕", 0, form.dataset.remove]].forEach(function (t, k) {
          var b = document.createElement("button");
          b.type = "button";
          b.textContent = t[0];
          b.setAttribute("aria-label", t[2] + " " + f.name);
          b.addEventListener("click", function () {
            var next = i;
            if (t[1] === 0) { files.splice(i, 1); next = Math.min(i, files.length - 1); }
            else {
              var j = i + t[1];
              if (j < 0 || j >= files.length) return;
              var x = files[i]; files[i] = files[j]; files[j] = x;
              next = j;
            }
            // Keep keyboard focus on the file that moved (or the next one after a removal).
            sync(next, t[1] === 0 ? 2 : k);
          });
          tools.appendChild(b);
        });
        li.appendChild(tools);
        list.appendChild(li);
      });
      if (focusIndex !== undefined) {
        var target = focusIndex >= 0 && list.children[focusIndex] ? list.children[focusIndex].querySelectorAll("button")[focusTool] : input;
        (target || input).focus();
      }
    };
    var add = function (fl) { for (var i = 0; i < fl.length; i++) files.push(fl[i]); sync(); };
    input.addEventListener("change", function () { var fl = Array.prototype.slice.call(input.files); files = []; add(fl); });
    ["dragenter", "dragover"].forEach(function (e) { drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.add("over"); }); });
    ["dragleave", "drop"].forEach(function (e) { drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.remove("over"); }); });
    drop.addEventListener("drop", function (ev) { add(ev.dataTransfer.files); });
  }

  // Back from the result page brings this page back as it was left (busy): make it usable.
  window.addEventListener("pageshow", function () {
    var b = document.getElementById("certify-button");
    var bar = document.getElementById("upload-progress");
    if (b && b.disabled) { b.disabled = false; b.textContent = b.dataset.label || b.textContent; }
    if (bar) bar.hidden = true;
  });
  var cb = document.getElementById("certify-button");
  if (cb) cb.dataset.label = cb.textContent;

  // Send with progress; the server answers 303 to the result page, which XHR follows.
  if (form && window.XMLHttpRequest && window.FormData) {
    form.addEventListener("submit", function (ev) {
      var msg = check(input ? input.files : []);
      if (msg) { ev.preventDefault(); showError(msg); if (input) input.focus(); return; }
      ev.preventDefault();
      var b = document.getElementById("certify-button");
      var bar = document.getElementById("upload-progress");
      if (b) { b.disabled = true; b.textContent = form.dataset.uploading + "…"; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable || !bar) return;
        bar.hidden = false;
        bar.value = Math.round(100 * e.loaded / e.total);
        if (b) b.textContent = (e.loaded < e.total ? form.dataset.uploading + " " + bar.value + "%" : form.dataset.busy);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL && xhr.responseURL !== form.action) {
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () { form.submit(); });
      xhr.send(new FormData(form));
    });
  }

  // Verify by hash only: the file never leaves the device. Browsers offer SHA-256 only on
  // secure pages (https or localhost); elsewhere the button explains instead.
  var hashBtn = document.getElementById("hash-only");
  if (hashBtn) {
    hashBtn.hidden = false;
    hashBtn.addEventListener("click", function () {
      var out = document.getElementById("hash-result");
      if (!(window.isSecureContext && window.crypto && crypto.subtle)) {
        out.textContent = hashBtn.dataset.https;
        return;
      }
      var f = document.getElementById("file").files[0];
      if (!f) { out.textContent = document.documentElement.lang === "vi" ? "Chọn một tệp PDF trước." : "Choose a PDF first."; return; }
      f.arrayBuffer().then(function (buf) { return crypto.subtle.digest("SHA-256", buf); }).then(function (d) {
        var hex = Array.prototype.map.call(new Uint8Array(d), function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
        return fetch(hashBtn.dataset.endpoint + hex, { headers: { "Accept": "application/json" } }).then(function (r) { return r.json(); }).then(function (j) {
          out.innerHTML = "";
          var p = document.createElement("p");
          p.className = j.status === "valid" ? "notice" : "alert";
          p.textContent = (document.documentElement.lang === "vi" ? j.message_vi : j.message_en) || "";
          var h = document.createElement("span");
          h.className = "mono hash";
          h.textContent = " SHA-256 " + hex;
          p.appendChild(h);
          out.appendChild(p);
        });
      }).catch(function (e) { out.textContent = String(e); });
    });
  }
})();
