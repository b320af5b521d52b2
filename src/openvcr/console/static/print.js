// The print button of a printable page (no inline script: the console's Content-Security-Policy forbids it).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    window.print();
  }
});
