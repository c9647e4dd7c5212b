// Demo job board script: marks the nav link of the current section.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var path = window.location.pathname;
    var links = document.querySelectorAll(".site-nav a");
    links.forEach(function (link) {
      var href = link.getAttribute("href");
      var current = href === "/" ? path === "/" : path.indexOf(href) === 0;
      if (current) {
        link.classList.add("active");
      }
    });
  });
})();
