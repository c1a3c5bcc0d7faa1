// A resend button stays disabled until the time the server said another code may be asked for;
// the seconds left count down beside it. Without script the page says the same in words.
(function () {
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-enable-at]").forEach(function (button) {
      var left = Math.ceil(parseFloat(button.getAttribute("data-enable-at")) - now);
      var note = document.getElementById(button.getAttribute("aria-describedby"));
      var seconds = note && note.querySelector("[data-seconds]");
      if (left > 0) {
        if (seconds) { seconds.textContent = String(left); }
        return;
      }
      button.disabled = false;
      button.removeAttribute("data-enable-at");
      if (note) { note.hidden = true; }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
