// The admin's map widgets (backend/accounts/admin_site.py, CityMapWidget): GeoDjango's
// MapWidget started from each widget's options, read from its JSON data element instead of an
// inline script, so the admin works under the Content-Security-Policy (script-src 'self').
// The base layer is the site's own tile server (WEB_MAP_TILE_URL), none when it is empty.
"use strict";

(function () {
  function baseLayer(options) {
    if (!options.tile_url) {
      return new ol.layer.Tile();
    }
    return new ol.layer.Tile({
      source: new ol.source.XYZ({
        url: options.tile_url,
        attributions: options.attribution || undefined,
        crossOrigin: null,
      }),
    });
  }

  function start() {
    var elements = document.querySelectorAll('script[type="application/json"][id$="_map_options"]');
    Array.prototype.forEach.call(elements, function (element) {
      var options = JSON.parse(element.textContent);
      if (window[options.module]) {
        return;
      }
      options.base_layer = baseLayer(options);
      window[options.module] = new MapWidget(options);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
