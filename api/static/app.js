// chungthuc workspace: drag-and-drop upload with preview and reordering, hash-only
// verification (SHA-256 computed in the browser), printing, and a busy state on submit.
"use strict";
(function () {
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  // Certify: keep our own ordered list of files and write it back into the input.
  var input = document.getElementById("files");
  var list = document.getElementById("file-list");
  var drop = document.getElementById("drop");
  if (input && list && drop && window.DataTransfer) {
    var files = [];
    var sync = function () {
      var dt = new DataTransfer();
      files.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
      list.innerHTML = "";
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
        [["↑", -1, "Lên"], ["↓", 1, "Xuống"], ["✕", 0, "Bỏ"]].forEach(function (t) {
          var b = document.createElement("button");
          b.type = "button";
          b.textContent = t[0];
          b.setAttribute("aria-label", t[2] + " " + f.name);
          b.addEventListener("click", function () {
            if (t[1] === 0) { files.splice(i, 1); }
            else {
              var j = i + t[1];
              if (j < 0 || j >= files.length) return;
              var x = files[i]; files[i] = files[j]; files[j] = x;
            }
            sync();
          });
          tools.appendChild(b);
        });
        li.appendChild(tools);
        list.appendChild(li);
      });
    };
    var add = function (fl) { for (var i = 0; i < fl.length; i++) files.push(fl[i]); sync(); };
    input.addEventListener("change", function () { var fl = Array.prototype.slice.call(input.files); files = []; add(fl); });
    ["dragenter", "dragover"].forEach(function (e) { drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.add("over"); }); });
    ["dragleave", "drop"].forEach(function (e) { drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.remove("over"); }); });
    drop.addEventListener("drop", function (ev) { add(ev.dataTransfer.files); });
  }
  var form = document.getElementById("certify-form");
  if (form) form.addEventListener("submit", function () {
    var b = document.getElementById("certify-button");
    if (b) { b.disabled = true; b.textContent = "Đang chứng thực…"; }
  });

  // Verify by hash only: the file never leaves the device.
  var hashBtn = document.getElementById("hash-only");
  if (hashBtn && window.crypto && crypto.subtle) {
    hashBtn.addEventListener("click", function () {
      var f = document.getElementById("file").files[0];
      var out = document.getElementById("hash-result");
      if (!f) { out.textContent = "Chọn một tệp PDF trước. (Choose a PDF first.)"; return; }
      f.arrayBuffer().then(function (buf) { return crypto.subtle.digest("SHA-256", buf); }).then(function (d) {
        var hex = Array.prototype.map.call(new Uint8Array(d), function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
        return fetch(hashBtn.dataset.endpoint + hex, { headers: { "Accept": "application/json" } }).then(function (r) { return r.json(); }).then(function (j) {
          out.innerHTML = "";
          var p = document.createElement("p");
          p.className = j.status === "valid" ? "notice" : "alert";
          p.textContent = (j.message_vi || "") + " — " + (j.message_en || "") + " (SHA-256 " + hex + ")";
          out.appendChild(p);
        });
      }).catch(function (e) { out.textContent = String(e); });
    });
  }
})();
