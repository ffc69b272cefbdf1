// Shrinks a phone photo before upload, keeping the EXIF capture time and GPS position that
// the server's proof-photo check reads (workorders/proof.py). No modules, no dependencies:
// the crew app and the residents' report page load it as a plain script.
//
// city311Shrink.shrinkPhoto(file, {maxEdge: 2048, quality: 0.85, maxBytes: 1 MiB})
//   -> Promise<Blob>: an upright JPEG whose longest edge is maxEdge, carrying the original's
//   EXIF block (Orientation 1, pixel size tags updated, thumbnail IFD dropped); or `file`
//   itself when it is not a JPEG, is already small (edge <= maxEdge and bytes <= maxBytes),
//   cannot be read, or would not get smaller. It never rejects.
// city311Shrink.readExif(blob) -> Promise<{dateTimeOriginal, gpsLatitude, gpsLongitude,
//   orientation} | null>
(function () {
  "use strict";
  var DEFAULTS = { maxEdge: 2048, quality: 0.85, maxBytes: 1024 * 1024 };
  var SUB_IFDS = [0x8769, 0x8825, 0xa005]; // Exif, GPS, Interop pointers
  var TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8]; // bytes per value of TIFF types

  function isJpeg(b) {
    return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
  }

  // Walks the JPEG's header segments: the first APP1 "Exif\0\0" block (the TIFF bytes) and
  // the stored size from the SOFn frame header.
  function jpegInfo(bytes) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var info = { tiff: null, width: 0, height: 0 };
    var at = 2;
    while (at + 4 <= bytes.length && bytes[at] === 0xff) {
      var marker = bytes[at + 1];
      if (marker === 0xff) { at++; continue; } // fill byte
      if (marker === 0xda || marker === 0xd9) break; // image data: the headers are over
      var length = view.getUint16(at + 2);
      if (marker === 0xe1 && !info.tiff && length > 8 &&
          String.fromCharCode.apply(null, bytes.subarray(at + 4, at + 10)) === "Exif\0\0") {
        info.tiff = bytes.subarray(at + 10, at + 2 + length);
      } else if (marker >= 0xc0 && marker <= 0xcf && [0xc4, 0xc8, 0xcc].indexOf(marker) < 0) {
        info.height = view.getUint16(at + 5);
        info.width = view.getUint16(at + 7);
      }
      at += 2 + length;
    }
    return info;
  }

  // Walks IFD0 and the Exif, GPS and Interop IFDs it points to (either byte order), calling
  // visit(view, entry, tag, le, ifd) for each entry (ifd: 0 or the pointer's tag). Returns
  // where the link to IFD1 is and where the last byte these IFDs use ends. Throws on anything
  // outside the block or a loop.
  function walk(tiff, visit) {
    var view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
    var le = tiff[0] === 0x49 && tiff[1] === 0x49;
    if (!le && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) throw new Error("no TIFF header");
    if (view.getUint16(2, le) !== 42) throw new Error("no TIFF header");
    var end = 8, seen = [];
    function ifd(offset, kind) {
      if (seen.indexOf(offset) >= 0) throw new Error("IFD loop");
      seen.push(offset);
      var n = view.getUint16(offset, le), link = offset + 2 + 12 * n;
      view.getUint32(link, le); // throws when the IFD runs past the block
      end = Math.max(end, link + 4);
      for (var e = offset + 2; e < link; e += 12) {
        var tag = view.getUint16(e, le);
        var size = (TYPE_SIZE[view.getUint16(e + 2, le)] || 0) * view.getUint32(e + 4, le);
        if (size > 4) {
          var data = view.getUint32(e + 8, le);
          if (data + size > tiff.length) throw new Error("EXIF value outside its block");
          end = Math.max(end, data + size);
        }
        visit(view, e, tag, le, kind);
        if (SUB_IFDS.indexOf(tag) >= 0) ifd(view.getUint32(e + 8, le), tag);
      }
      return link;
    }
    var link = ifd(view.getUint32(4, le), 0);
    return { view: view, le: le, link: link, end: end };
  }

  // The original's EXIF for the new pixels: a copy with Orientation 1 (they are upright
  // now), the pixel size tags set to the new size, no IFD1 (its thumbnail is cut off when it
  // lies after everything else, as cameras write it). Nothing moves: offsets stay valid.
  function exifFor(tiff, width, height) {
    var copy = tiff.slice();
    var values = { 0x112: 1, 0x100: width, 0x101: height, 0xa002: width, 0xa003: height };
    var walked = walk(copy, function (view, e, tag, le) {
      if (!values.hasOwnProperty(tag)) return;
      var type = view.getUint16(e + 2, le);
      if (type === 3 && values[tag] < 65536) view.setUint16(e + 8, values[tag], le);
      if (type === 4) view.setUint32(e + 8, values[tag], le);
    });
    walked.view.setUint32(walked.link, 0, walked.le);
    return copy.subarray(0, walked.end);
  }

  // The canvas's JPEG with the EXIF block as APP1 right after SOI, in place of its JFIF APP0.
  function withExif(jpeg, tiff) {
    var rest = jpeg[3] === 0xe0 ? 4 + (jpeg[4] << 8 | jpeg[5]) : 2;
    var length = tiff.length + 8;
    var head = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 255,
      0x45, 0x78, 0x69, 0x66, 0, 0]); // "Exif\0\0"
    return new Blob([head, tiff, jpeg.subarray(rest)], { type: "image/jpeg" });
  }

  // Decoded upright: createImageBitmap where it exists, else an <img> (which browsers also
  // show upright by its EXIF orientation).
  function decode(file) {
    function viaImg() {
      return new Promise(function (resolve, reject) {
        var url = URL.createObjectURL(file), img = new Image();
        img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
        img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("undecodable")); };
        img.src = url;
      });
    }
    if (!window.createImageBitmap) return viaImg();
    return createImageBitmap(file, { imageOrientation: "from-image" }).catch(viaImg);
  }

  function encode(source, width, height, quality) {
    var canvas = window.OffscreenCanvas ? new OffscreenCanvas(width, height) : null;
    var ctx = canvas && canvas.getContext("2d");
    if (!ctx) {
      canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      ctx = canvas.getContext("2d");
    }
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(source, 0, 0, width, height);
    if (source.close) source.close();
    if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality: quality });
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) resolve(blob); else reject(new Error("not encoded"));
      }, "image/jpeg", quality);
    });
  }

  function shrinkPhoto(file, options) {
    var o = {};
    for (var key in DEFAULTS) o[key] = options && options[key] != null ? options[key] : DEFAULTS[key];
    var info, width, height;
    return Promise.resolve().then(function () {
      return file.arrayBuffer();
    }).then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      if (!isJpeg(bytes)) return file;
      info = jpegInfo(bytes);
      if (info.tiff) walk(info.tiff, function () {}); // damaged EXIF: send the original
      if (Math.max(info.width, info.height) <= o.maxEdge && file.size <= o.maxBytes) return file;
      return decode(file).then(function (source) {
        var w = source.naturalWidth || source.width, h = source.naturalHeight || source.height;
        var scale = Math.min(1, o.maxEdge / Math.max(w, h));
        width = Math.max(1, Math.round(w * scale));
        height = Math.max(1, Math.round(h * scale));
        return encode(source, width, height, o.quality);
      }).then(function (blob) {
        return blob.arrayBuffer();
      }).then(function (out) {
        var jpeg = new Uint8Array(out);
        var result = info.tiff ? withExif(jpeg, exifFor(info.tiff, width, height))
          : new Blob([jpeg], { type: "image/jpeg" });
        return result.size < file.size ? result : file;
      });
    }).catch(function () {
      return file;
    });
  }

  // The capture time (as written, "YYYY:MM:DD HH:MM:SS"), GPS position (signed degrees) and
  // orientation of a JPEG's EXIF; null when it has none or it cannot be read.
  function readExif(blob) {
    return blob.arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      var tiff = isJpeg(bytes) && jpegInfo(bytes).tiff;
      if (!tiff) return null;
      var found = {};
      var walked = walk(tiff, function (view, e, tag, le, ifd) {
        var size = (TYPE_SIZE[view.getUint16(e + 2, le)] || 0) * view.getUint32(e + 4, le);
        found[ifd + ":" + tag] = { e: e, at: size > 4 ? view.getUint32(e + 8, le) : e + 8 };
      });
      var view = walked.view, le = walked.le;
      function text(key) {
        var f = found[key];
        if (!f) return null;
        var s = String.fromCharCode.apply(null, tiff.subarray(f.at, f.at + view.getUint32(f.e + 4, le)));
        return s.replace(/\0+$/, "");
      }
      function degrees(key, ref) {
        var f = found[key], sum = 0;
        if (!f) return null;
        for (var i = 0; i < 3; i++) {
          sum += view.getUint32(f.at + 8 * i, le) / view.getUint32(f.at + 8 * i + 4, le) / Math.pow(60, i);
        }
        return /^[SW]/.test(text(ref)) ? -sum : sum;
      }
      var orientation = found["0:274"];
      return {
        dateTimeOriginal: text("34665:36867"),
        gpsLatitude: degrees("34853:2", "34853:1"),
        gpsLongitude: degrees("34853:4", "34853:3"),
        orientation: orientation ? view.getUint16(orientation.at, le) : 1,
      };
    }).catch(function () {
      return null;
    });
  }

  window.city311Shrink = { shrinkPhoto: shrinkPhoto, readExif: readExif };
})();
