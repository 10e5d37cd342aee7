/* Photos are made smaller on the device before upload: every image chosen in an
 * <input type="file" data-resize="1600"> wider or taller than that many pixels is redrawn on a
 * canvas at that size and put back into the input as a JPEG. Without canvas or DataTransfer
 * support (old browsers) the original files are sent; the server limits still apply. */
(function () {
  "use strict";

  var QUALITY = 0.85;

  function load(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
  }

  function shrink(file, max) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type)) { return Promise.resolve(file); }
    return load(file).then(function (img) {
      var scale = Math.min(1, max / Math.max(img.naturalWidth, img.naturalHeight));
      if (scale >= 1 && file.type === "image/jpeg") { return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.naturalWidth * scale);
      canvas.height = Math.round(img.naturalHeight * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function attach(input) {
    var max = parseInt(input.dataset.resize, 10) || 1600;
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length || typeof DataTransfer === "undefined") { return; }
      var form = input.form;
      var buttons = form ? form.querySelectorAll("button[type=submit]") : [];
      buttons.forEach(function (b) { b.disabled = true; });
      input.dataset.resizing = "busy";
      Promise.all(files.map(function (f) { return shrink(f, max); })).then(function (out) {
        var transfer = new DataTransfer();
        out.forEach(function (f) { transfer.items.add(f); });
        input.files = transfer.files; // fires no change event
        input.dataset.resizing = "";
        input.dataset.resized = String(out.length);
        buttons.forEach(function (b) { b.disabled = false; });
      });
    });
  }

  function start() {
    document.querySelectorAll("input[type=file][data-resize]").forEach(attach);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
