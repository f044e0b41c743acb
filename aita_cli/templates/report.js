// Written by aita: no network, no framework. A page image that fails to load says so
// (lazy images below the fold load later: each is watched, not judged at page load).
(function () {
  var images = document.querySelectorAll("img.page-image"), broken = 0;
  function markBroken(img) {
    var note = document.createElement("p");
    note.className = "missing-image";
    note.textContent = "This page image could not be loaded.";
    img.replaceWith(note);
    broken += 1;
    document.body.setAttribute("data-images-broken", String(broken));
  }
  images.forEach(function (img) {
    if (img.complete && img.naturalWidth === 0) { markBroken(img); return; }
    img.addEventListener("error", function () { markBroken(img); });
  });
  window.addEventListener("load", function () {
    var loaded = 0;
    document.querySelectorAll("img.page-image").forEach(function (img) {
      if (img.complete && img.naturalWidth > 0) { loaded += 1; }
    });
    document.body.setAttribute("data-images-loaded", loaded + "/" + images.length);
    document.body.setAttribute("data-images-broken", String(broken));
  });
})();
// Click a column heading to sort the table by it (again to reverse).
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th.sortable").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute("data-order") !== "asc";
      th.setAttribute("data-order", up ? "asc" : "desc");
      rows.sort(function (a, b) {
        var x = a.cells[th.cellIndex].getAttribute("data-sort"), y = b.cells[th.cellIndex].getAttribute("data-sort");
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y), undefined, {numeric: true});
        return up ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
