/* CityOps maps (Leaflet, vendored under static/vendor/): no inline script, every setting is a
 * data- attribute of the map's element:
 *   data-map="report|case|results|nearby"
 *   data-grid-url     GeoJSON grid cells (GET /api/v1/grid/)
 *   data-points-url   GeoJSON case points (GET /api/v1/cases/map/?…)
 *   data-tiles, data-attribution   the base map (MAP_TILE_URL); none: the grid alone
 *   data-lat, data-lng             the case's location (case, nearby)
 *   data-msg-*                     translated messages
 */
(function () {
  "use strict";

  var GRID_STYLE = { color: "#0b6bcb", weight: 1, fillColor: "#0b6bcb", fillOpacity: 0.06 };
  var CELL_ON = { color: "#c05621", weight: 2, fillColor: "#ed8936", fillOpacity: 0.25 };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(url + ": " + response.status); }
        return response.json();
      });
  }

  function fail(el, error) {
    el.dataset.failed = "1";
    if (window.console) { console.error("map:", error); }
  }

  function baseMap(el) {
    var map = L.map(el, { zoomSnap: 0.5, maxZoom: 19 });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 })
        .addTo(map);
    }
    map.setView([0, 0], 2);
    return map;
  }

  function gridLayer(map, el) {
    return getJSON(el.dataset.gridUrl).then(function (collection) {
      var layer = L.geoJSON(collection, {
        style: function () { return GRID_STYLE; },
        onEachFeature: function (feature, item) {
          item.bindTooltip(feature.properties.code + " " + feature.properties.name);
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds()); }
      el.dataset.gridLoaded = String(collection.features.length);
      return { collection: collection, layer: layer };
    });
  }

  function inRing(lng, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function cellAt(grid, lat, lng) {
    var found = null;
    grid.layer.eachLayer(function (item) {
      var geometry = item.feature.geometry;
      if (!found && geometry && inRing(lng, lat, geometry.coordinates[0])) { found = item; }
    });
    return found;
  }

  function dot(latlng, color) {
    return L.circleMarker(latlng, {
      radius: 8, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.95
    });
  }

  function popup(feature) {
    var p = feature.properties;
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.number;
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(p.category + " · " + p.stage_label));
    return box;
  }

  function pointsLayer(map, el, fit) {
    return getJSON(el.dataset.pointsUrl).then(function (collection) {
      var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
      L.geoJSON(collection, {
        pointToLayer: function (feature, latlng) {
          return dot(latlng, feature.properties.status === "open" ? "#0b6bcb" : "#7b8794");
        },
        onEachFeature: function (feature, item) { item.bindPopup(popup(feature)); }
      }).eachLayer(function (item) { cluster.addLayer(item); });
      map.addLayer(cluster);
      if (fit && cluster.getLayers().length) {
        map.fitBounds(cluster.getBounds().pad(0.2), { maxZoom: 15 });
      }
      el.dataset.points = String(collection.features.length);
      var note = el.parentNode.querySelector("[data-map-note]");
      if (note) {
        note.textContent = collection.truncated ? el.dataset.msgTruncated
          : el.dataset.msgCount.replace("{n}", collection.features.length);
      }
      return collection;
    });
  }

  /* The report form: click (or the device's position) places the case, snaps it to its grid
   * cell and fills the coordinates, the grid cell and, while it is empty, the address. */
  function reportMap(el) {
    var map = baseMap(el);
    var form = el.closest("form");
    var field = function (name) { return form.querySelector("[name=" + name + "]"); };
    var status = form.querySelector("[data-map-status]");
    var marker = null, chosen = null, autoAddress = "";
    var say = function (text) { if (status) { status.textContent = text; } };

    gridLayer(map, el).then(function (grid) {
      function place(lat, lng, zoom) {
        var latlng = L.latLng(lat, lng);
        if (marker) { marker.setLatLng(latlng); } else { marker = dot(latlng, "#c53030").addTo(map); }
        field("lat").value = lat.toFixed(6);
        field("lng").value = lng.toFixed(6);
        if (chosen) { chosen.setStyle(GRID_STYLE); }
        chosen = cellAt(grid, lat, lng);
        var address = field("address");
        if (!chosen) {
          field("grid").value = "";
          say(el.dataset.msgOutside);
          return;
        }
        chosen.setStyle(CELL_ON);
        var p = chosen.feature.properties;
        field("grid").value = p.code;
        if (!address.value || address.value === autoAddress) {
          autoAddress = p.area_name + " " + p.name;
          address.value = autoAddress;
        }
        say(p.code + " " + p.name);
        if (zoom) { map.setView(latlng, Math.max(map.getZoom(), 15)); }
      }
      map.on("click", function (event) { place(event.latlng.lat, event.latlng.lng, false); });
      var lat = parseFloat(field("lat").value), lng = parseFloat(field("lng").value);
      if (!isNaN(lat) && !isNaN(lng)) { place(lat, lng, true); }
      field("grid").addEventListener("change", function () {
        var code = field("grid").value;
        grid.layer.eachLayer(function (item) {
          if (item.feature.properties.code === code && item.feature.properties.centre) {
            var c = item.feature.properties.centre;
            place(c[1], c[0], true);
          }
        });
      });
      var locate = form.querySelector("[data-locate]");
      if (locate) {
        if (!navigator.geolocation) { locate.hidden = true; return; }
        locate.addEventListener("click", function () {
          say(el.dataset.msgLocating);
          navigator.geolocation.getCurrentPosition(
            function (position) {
              place(position.coords.latitude, position.coords.longitude, true);
            },
            function () { say(el.dataset.msgNoPosition); },
            { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
          );
        });
      }
    }).catch(function () { say(el.dataset.msgFailed); });
  }

  function caseMap(el, withPoints) {
    var map = baseMap(el);
    var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.lng);
    gridLayer(map, el).then(function () {
      if (!isNaN(lat) && !isNaN(lng)) {
        dot([lat, lng], "#c53030").addTo(map).bindTooltip(el.dataset.msgHere || "");
        // Not animated: Leaflet ignores a later fitBounds while a zoom animation runs.
        map.setView([lat, lng], 16, { animate: false });
      }
      if (withPoints) {
        // The neighbours are what the dispatcher came for: frame the case and them.
        return pointsLayer(map, el, false).then(function (collection) {
          var corners = collection.features.filter(function (f) { return f.geometry; })
            .map(function (f) { return [f.geometry.coordinates[1], f.geometry.coordinates[0]]; });
          if (!isNaN(lat) && !isNaN(lng)) { corners.push([lat, lng]); }
          if (corners.length > 1) {
            map.fitBounds(L.latLngBounds(corners).pad(0.25), { maxZoom: 16, animate: false });
            el.dataset.framed = String(map.getZoom());  // the zoom showing the neighbours
          }
          return collection;
        });
      }
      return null;
    }).catch(function (error) { fail(el, error); });
  }

  function resultsMap(el) {
    var map = baseMap(el);
    gridLayer(map, el).then(function () { return pointsLayer(map, el, true); })
      .catch(function (error) { fail(el, error); });
  }

  function start() {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll("[data-map]").forEach(function (el) {
      var kind = el.dataset.map;
      if (kind === "report") { reportMap(el); }
      else if (kind === "case") { caseMap(el, false); }
      else if (kind === "nearby") { caseMap(el, true); }
      else if (kind === "results") { resultsMap(el); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
